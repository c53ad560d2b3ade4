"""An ``Answer`` turned into what a front-end shows: ``text`` for the terminal, ``telegram`` for Bot API HTML,
``inline`` for the results of Telegram's inline mode."""
