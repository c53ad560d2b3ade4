"""Where articles come from; each module turns one kind of input into ``Article`` or ``Skip(reason)``.

``files`` reads paths and folders (.txt, .md, .html, .json, .jsonl) and uploaded documents; ``html`` extracts a
page's text and metadata offline and holds the id/host rules the others share; ``fetch`` is the SSRF-safe HTTP
client for URLs; ``feeds`` keeps the RSS/Atom feed list and refreshes it through ``fetch``.
"""
