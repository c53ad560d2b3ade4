"""Answer quality, for ``qabot eval`` and ``benchmarks/``: ``metrics`` scores answers (hit@1, hit@3, ev, ans, chars,
abstention; standard library and ``qabot.models`` only), ``suite`` runs a set or a suite of sets through the real
``Answerer`` (``run_eval``) over indexes it builds once and caches.

Nothing is imported here: scoring alone must not load the pipeline (numpy, faiss) that ``suite`` needs.
"""
