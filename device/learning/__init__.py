"""Learning what helps this listener: what each play did (records), a response model per
listener over tracks and tracks like them (response), the evidence a reason quotes (evidence), and the
recommender that chooses with it (recommender). The daemon imports these; numpy only, no training code."""
