"""When qabot says the articles don't answer, and why: the decline text, its reasons, and questions in a language
the model does not read.

The confidence threshold is the fitted scorer's (``scorer.json``), overridable by ``QABOT_MIN_CONFIDENCE``.
"""

from __future__ import annotations

import re

# Reasons in ``Answer.declined_because`` (stable strings: --json readers match them).
NOTHING_FOUND = "nothing retrieved"  # the index has no passage near the question (or is empty)
LOW_CONFIDENCE = "low confidence"  # the confidence that the articles answer the question is under the threshold
LANGUAGE = "language"  # the question is in a language the model does not read: "language:de"
NO_TOPIC = "no topic"  # the question names nothing ("when did that happen?") and follows up no earlier answer

# One line each, in the language of the question: the bundled model reads English only.
ENGLISH_ONLY = {
    "de": "Ich verstehe nur Fragen auf Englisch – bitte stellen Sie Ihre Frage auf Englisch.",
    "es": "Solo entiendo preguntas en inglés; por favor, haz tu pregunta en inglés.",
    "fr": "Je ne comprends que les questions en anglais ; posez votre question en anglais, s'il vous plaît.",
    "tr": "Yalnızca İngilizce soruları anlıyorum; lütfen sorunuzu İngilizce sorun.",
    "ru": "Я понимаю только вопросы на английском языке — пожалуйста, задайте вопрос по-английски.",
    "it": "Capisco solo domande in inglese: per favore, fai la tua domanda in inglese.",
    "pt": "Só entendo perguntas em inglês; por favor, faça a sua pergunta em inglês.",
    "nl": "Ik begrijp alleen vragen in het Engels; stel je vraag alsjeblieft in het Engels.",
}

# Function words: the commonest short words of each language, which no topic changes. English is among them so a
# name like "Erdoğan" or "Türkiye" inside an English question does not make it Turkish or German.
_FUNCTION_WORDS = {
    "en": "the a an is are was were what why how who when where which did does do of to in on for and with by from "
    "that this has have had will would can could about after again still yet just also new more most much many now "
    "then there here over under out up down off back before during into than so not no any all its their his her "
    "said say says going get got make made take took come came go went run running win won lose lost",
    "de": "der die das den dem des und ist sind wurde wurden warum wie wer wann wo welche welcher welches hat haben "
    "nicht ein eine einen einem aus mit von vom zu zum zur für auf im ins bei nach über viel viele wieviel kostet "
    "kostete welches welchen ist war",
    "es": "el la los las un una unos de del y es son fue fueron por qué que cómo cuándo dónde quién quiénes cuál "
    "cuánto cuánta cuántos cuántas con para se al en lo su sus ha han costó",
    "fr": "le la les un une des du de et est sont été pourquoi comment quand où qui quel quelle quels quelles "
    "combien avec pour dans sur au aux ce cette a ont coûté il elle ils elles t l d n qu ne pas vient sa son ses "
    "leur prochaine dernière fois",
    "tr": "ve bir bu ne neden niçin niye nasıl kim kimi kime kimin neyi nerede nereye ne zaman hangi kaç için ile "
    "mi mı mu mü da de ki olan oldu edildi nedir kadar yeni istedi tane için geri konusunda",
    "it": "il lo la gli le un una di del della e è sono perché come quando dove chi quale quanto quanti per con",
    "pt": "o a os as um uma de do da dos das e é são foi por que porque como quando onde quem qual quanto para com",
    "nl": "de het een en is zijn was waarom hoe wie wanneer waar welke wat van voor met op in niet",
}
_WORDSETS = {lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_LETTERS = {  # letters that occur in the language and not in English
    "de": re.compile(r"[äöüß]"),
    "es": re.compile(r"[ñ¿¡áéíóú]"),
    "fr": re.compile(r"[àâçèéêëîïôûœ]"),
    "tr": re.compile(r"[ığşİçöü]"),
}
_FOREIGN_SHARE = 0.3  # of a question's words: function words or letters of one other language
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_WORD = re.compile(r"[^\W\d_]+")


def question_language(question: str) -> str:
    """The question's language as a two-letter code, "en" when unsure: a short question is read as English."""
    cyrillic, latin = len(_CYRILLIC.findall(question)), len(_LATIN.findall(question))
    if cyrillic > latin:
        return "ru"
    found = _WORD.findall(question)
    words = [w.lower() for w in found]
    # A capitalised word past the first is a name's part ("Van Dijk", "La Liga", "De Bruyne"): it says nothing
    # of the question's language. A word English also has ("is", "was", "in") counts for English only.
    foreign = [w.lower() for i, w in enumerate(found) if i == 0 or not w[0].isupper()]
    english = _WORDSETS["en"]
    hits = {lang: sum(w in ws and w not in english for w in foreign) for lang, ws in _WORDSETS.items() if lang != "en"}
    hits["en"] = sum(w in english for w in words)
    for lang, letters in _LETTERS.items():
        hits[lang] += bool(letters.search(" ".join(foreign)))  # letters of names ("Erdoğan", "Müller") don't count
    best = max((lang for lang in hits if lang != "en"), key=lambda lang: hits[lang])
    # Most of a question is function words and content words; a few foreign particles inside an English question
    # ("Is von der Leyen running again?") are not enough: the evidence must cover a good part of its words.
    if hits[best] >= 2 and hits[best] > hits["en"] and hits[best] >= _FOREIGN_SHARE * len(words):
        return best
    return "en"


def english_only_text(language: str) -> str:
    """The one line that says which questions the bot reads, in ``language`` where a translation exists."""
    return ENGLISH_ONLY.get(language, "I read questions in English only; please ask in English.")


__all__ = [
    "ENGLISH_ONLY",
    "LANGUAGE",
    "LOW_CONFIDENCE",
    "NOTHING_FOUND",
    "NO_TOPIC",
    "english_only_text",
    "question_language",
]
