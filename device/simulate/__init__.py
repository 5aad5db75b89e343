"""`emotune simulate`: the recommenders against simulated listeners (issue 14). A command-line tool; the
daemon never imports it."""
