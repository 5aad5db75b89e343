"""`emotune simulate`: the recommenders against simulated listeners. A command-line tool; the
daemon never imports it."""
