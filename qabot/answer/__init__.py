"""Answering a question from the index, in stages a reader can follow:

``features`` (candidate sentences and what is known of each) → ``scorer`` (the fitted probability that one
answers) → ``newsaware`` (copies, updates, disagreements, timelines) → ``select`` (the quotes) → ``decline``
(when the articles don't answer, and why). ``facade.Answerer`` runs them; front-ends call only ``Answerer.ask``.
"""

from qabot.answer.facade import Answerer, Tuning

__all__ = ["Answerer", "Tuning"]
