"""Training the emotion CNN: data, model, training loop, int8 export, CLI glue.

Nothing here is imported by the daemon. `data` needs only numpy; `model`, `train` and `export` import
TensorFlow, and `commands` imports it lazily so the CLI stays quick to start.
"""
