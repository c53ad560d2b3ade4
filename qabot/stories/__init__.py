"""One story in many articles (wire copies, re-publications): ``copies`` tells near-copies apart by their five-word
runs and reads the figures reports state (standard library only, imported by the answer steps); ``grouping`` gives
each stored article its story id as ingest adds and removes articles (it reads the index through ``qabot.store``).

Nothing is imported here, so the answer steps can use ``copies`` without loading the store.
"""
