"""Calibration on the listener's own face, on the device: collect their crops, fit a light personal head
on the face model's penultimate features (numpy, no TensorFlow), decide on held-out capture rounds
whether it reads them better, install it per person (docs/architecture.md, issue 25)."""
