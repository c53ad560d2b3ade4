"""The bot's fixed texts in the languages Telegram users name in ``language_code``: one table, one look-up.

:data:`TEXTS` maps a key to the text in English (``"en"``, the default) and in each of :data:`LANGUAGES`. Every
text is Telegram HTML whose ``{placeholders}`` (``str.format``) the caller fills with HTML it escaped; a text used
where Telegram takes plain text (a button's answer, a command's description) has no markup. The tests hold every
language to English's placeholders, tags and commands. The chat's short lines are here; the long texts are in
:mod:`qabot.render.translations_commands` (``/start``, ``/help``, ``/sources``, the menus) and
:mod:`qabot.render.translations_privacy` (``/privacy``, ``/forget``, ``/stats``).

What stays English, on purpose: quotes and article titles (the bot quotes, it never translates), the example
questions (the bundled model reads English questions; ``qabot.answer.decline`` tells other languages so in their
own), the *More sources* button the help text names (its label is set where the keyboard is built), and the
commands. The register follows the decline lines: Sie, tú, vous, siz, вы.

:func:`text` falls back to English for a language without a translation, and reads a regional code by its
language ("de-AT" → de, "es-MX" → es, "pt-br" → English).
"""

from __future__ import annotations

from string import Formatter

from qabot.render.common import DECLINE_TEXT, NO_MORE, NO_TOPIC_TEXT, SUMMARY_LABEL
from qabot.render.translations_commands import COMMAND_TEXTS
from qabot.render.translations_privacy import PRIVACY_TEXTS

DEFAULT = "en"
LANGUAGES = ("de", "es", "fr", "tr", "ru")  # besides English
PLURAL_SEP = "|"  # between the forms of a counted phrase (see plural())

_CHAT: dict[str, dict[str, str]] = {
    "something_wrong": {
        "en": "Sorry, something went wrong on my side. Please try again later.",
        "de": "Entschuldigung, bei mir ist etwas schiefgelaufen. Bitte versuchen Sie es später noch einmal.",
        "es": "Lo siento, algo ha fallado por mi parte. Vuelve a intentarlo más tarde.",
        "fr": "Désolé, un problème est survenu de mon côté. Veuillez réessayer plus tard.",
        "tr": "Üzgünüm, benim tarafımda bir sorun oluştu. Lütfen daha sonra tekrar deneyin.",
        "ru": "Извините, у меня что-то пошло не так. Пожалуйста, попробуйте позже.",
    },
    "private_bot": {
        "en": "Sorry, this bot is private. Ask its owner for access.",
        "de": "Entschuldigung, dieser Bot ist privat. Bitten Sie seinen Inhaber um Zugang.",
        "es": "Lo siento, este bot es privado. Pide acceso a su propietario.",
        "fr": "Désolé, ce bot est privé. Demandez l'accès à son propriétaire.",
        "tr": "Üzgünüm, bu bot özeldir. Erişim için sahibine başvurun.",
        "ru": "Извините, это закрытый бот. Попросите доступ у его владельца.",
    },
    "admin_only": {
        "en": "Sorry, only the bot's admins can do that.",
        "de": "Entschuldigung, das dürfen nur die Administratoren des Bots.",
        "es": "Lo siento, solo los administradores del bot pueden hacer eso.",
        "fr": "Désolé, seuls les administrateurs du bot peuvent faire cela.",
        "tr": "Üzgünüm, bunu yalnızca botun yöneticileri yapabilir.",
        "ru": "Извините, это могут делать только администраторы бота.",
    },
    "empty_question": {
        "en": "Ask me a question about the news, e.g. <code>/ask what happened to the F-35 program?</code>",
        "de": "Stellen Sie mir eine Frage zu den Nachrichten, z. B. "
        "<code>/ask what happened to the F-35 program?</code>",
        "es": "Hazme una pregunta sobre las noticias, p. ej. <code>/ask what happened to the F-35 program?</code>",
        "fr": "Posez-moi une question sur l'actualité, par ex. <code>/ask what happened to the F-35 program?</code>",
        "tr": "Bana haberlerle ilgili bir soru sorun, ör. <code>/ask what happened to the F-35 program?</code>",
        "ru": "Задайте мне вопрос о новостях, например: <code>/ask what happened to the F-35 program?</code>",
    },
    "not_a_question": {
        "en": "Glad to help — ask me anything about the articles.",
        "de": "Gern geschehen – fragen Sie mich einfach alles zu den Artikeln.",
        "es": "¡De nada! Pregúntame lo que quieras sobre los artículos.",
        "fr": "Avec plaisir ! Posez-moi toutes vos questions sur les articles.",
        "tr": "Rica ederim! Makalelerle ilgili bana istediğinizi sorabilirsiniz.",
        "ru": "Рад помочь! Спрашивайте о статьях что угодно.",
    },
    "not_text": {
        "en": "I read text only: send me your question as a message.",
        "de": "Ich lese nur Text: Schicken Sie mir Ihre Frage als Nachricht.",
        "es": "Solo leo texto: envíame tu pregunta como mensaje.",
        "fr": "Je ne lis que du texte : envoyez-moi votre question sous forme de message.",
        "tr": "Yalnızca metin okuyabiliyorum: sorunuzu bana mesaj olarak gönderin.",
        "ru": "Я читаю только текст: пришлите мне вопрос сообщением.",
    },
    "new_conversation": {
        "en": "New conversation: the next question starts afresh.",
        "de": "Neues Gespräch: Die nächste Frage beginnt von vorn.",
        "es": "Nueva conversación: la próxima pregunta empieza de cero.",
        "fr": "Nouvelle conversation : la prochaine question repart de zéro.",
        "tr": "Yeni sohbet: sonraki soru sıfırdan başlar.",
        "ru": "Новый разговор: следующий вопрос начнётся с чистого листа.",
    },
    "no_more": {
        "en": NO_MORE,
        "de": "Für diese Antwort gibt es keine weiteren Quellen.",
        "es": "No hay más fuentes para esta respuesta.",
        "fr": "Il n'y a pas d'autres sources pour cette réponse.",
        "tr": "Bu yanıt için başka kaynak yok.",
        "ru": "Других источников для этого ответа нет.",
    },
    "skipped": {
        "en": "I skipped {questions} you sent while I was answering. Please send them again, one at a time.",
        "de": "Ich habe {questions} übersprungen, die Sie geschickt haben, während ich geantwortet habe. Bitte "
        "schicken Sie sie noch einmal, eine nach der anderen.",
        "es": "Me salté {questions} que enviaste mientras respondía. Vuelve a enviarlas de una en una, por favor.",
        "fr": "Pendant que je répondais, j'ai laissé de côté {questions}. Renvoyez-les une par une, s'il vous plaît.",
        "tr": "Yanıt verirken gönderdiğiniz {questions} atladım. Lütfen bunları tek tek yeniden gönderin.",
        "ru": "Пока я отвечал, я пропустил ещё {questions}. Пожалуйста, отправьте их снова, по одному.",
    },
    "more_questions": {
        "en": "{n} more question|{n} more questions",
        "de": "{n} weitere Frage|{n} weitere Fragen",
        "es": "{n} pregunta más|{n} preguntas más",
        "fr": "{n} autre question|{n} autres questions",
        "tr": "{n} soruyu daha|{n} soruyu daha",
        "ru": "{n} вопрос|{n} вопроса|{n} вопросов",
    },
    # What a button press answers (only the presser sees it, so it is in their language; the buttons under a
    # message are everyone's, so their labels stay as they are).
    "vote_counted": {
        "en": "Thanks! Your {thumb} is counted.",
        "de": "Danke! Ihr {thumb} zählt.",
        "es": "¡Gracias! Tu {thumb} cuenta.",
        "fr": "Merci ! Votre {thumb} est compté.",
        "tr": "Teşekkürler! {thumb} oyunuz sayıldı.",
        "ru": "Спасибо! Ваш {thumb} учтён.",
    },
    "vote_changed": {
        "en": "Changed your vote to {thumb}.",
        "de": "Ihre Stimme ist jetzt {thumb}.",
        "es": "Cambié tu voto a {thumb}.",
        "fr": "Votre vote est maintenant {thumb}.",
        "tr": "Oyunuz {thumb} olarak değiştirildi.",
        "ru": "Ваш голос изменён на {thumb}.",
    },
    "vote_already": {
        "en": "You already voted {thumb}.",
        "de": "Sie haben bereits mit {thumb} abgestimmt.",
        "es": "Ya votaste {thumb}.",
        "fr": "Vous avez déjà voté {thumb}.",
        "tr": "Zaten {thumb} oyu verdiniz.",
        "ru": "Вы уже проголосовали {thumb}.",
    },
    "too_old_to_rate": {
        "en": "That answer is too old to rate.",
        "de": "Diese Antwort ist zu alt, um sie zu bewerten.",
        "es": "Esa respuesta es demasiado antigua para valorarla.",
        "fr": "Cette réponse est trop ancienne pour être notée.",
        "tr": "Bu yanıt değerlendirilemeyecek kadar eski.",
        "ru": "Этот ответ слишком старый, чтобы его оценить.",
    },
    "feedback_down": {
        "en": "Sorry, I can't record that right now. Please try again later.",
        "de": "Entschuldigung, das kann ich gerade nicht speichern. Bitte versuchen Sie es später noch einmal.",
        "es": "Lo siento, ahora mismo no puedo guardarlo. Vuelve a intentarlo más tarde.",
        "fr": "Désolé, je ne peux pas l'enregistrer pour le moment. Veuillez réessayer plus tard.",
        "tr": "Üzgünüm, bunu şu anda kaydedemiyorum. Lütfen daha sonra tekrar deneyin.",
        "ru": "Извините, сейчас я не могу это сохранить. Пожалуйста, попробуйте позже.",
    },
    "old_button": {
        "en": "This button no longer works. Ask again for a fresh answer.",
        "de": "Dieser Knopf funktioniert nicht mehr. Fragen Sie noch einmal, um eine neue Antwort zu bekommen.",
        "es": "Este botón ya no funciona. Vuelve a preguntar para obtener una respuesta nueva.",
        "fr": "Ce bouton ne fonctionne plus. Reposez la question pour obtenir une nouvelle réponse.",
        "tr": "Bu düğme artık çalışmıyor. Yeni bir yanıt için yeniden sorun.",
        "ru": "Эта кнопка больше не работает. Спросите снова, чтобы получить новый ответ.",
    },
    "sources_below": {
        "en": "The further sources are in the message under this answer.",
        "de": "Die weiteren Quellen stehen in der Nachricht unter dieser Antwort.",
        "es": "Las demás fuentes están en el mensaje debajo de esta respuesta.",
        "fr": "Les autres sources sont dans le message sous cette réponse.",
        "tr": "Diğer kaynaklar bu yanıtın altındaki mesajda.",
        "ru": "Остальные источники — в сообщении под этим ответом.",
    },
    # An answer's own lines (the quotes under them stay as the articles wrote them).
    "declined": {
        "en": DECLINE_TEXT,
        "de": "Die Artikel beantworten diese Frage nicht.",
        "es": "Los artículos no responden a esta pregunta.",
        "fr": "Les articles ne répondent pas à cette question.",
        "tr": "Makaleler bu soruyu yanıtlamıyor.",
        "ru": "В статьях нет ответа на этот вопрос.",
    },
    "no_topic": {
        "en": NO_TOPIC_TEXT,
        "de": "Welche Meldung meinen Sie? Fragen Sie bitte noch einmal mit einem Namen oder einem Thema.",
        "es": "¿A qué noticia te refieres? Vuelve a preguntar con un nombre o un tema.",
        "fr": "De quelle actualité parlez-vous ? Reposez la question avec un nom ou un sujet.",
        "tr": "Hangi haberi kastediyorsunuz? Lütfen bir ad ya da konu belirterek yeniden sorun.",
        "ru": "О какой новости вы спрашиваете? Задайте вопрос ещё раз, назвав имя или тему.",
    },
    "summary_label": {
        "en": SUMMARY_LABEL,
        "de": "Zusammenfassung eines Sprachmodells, an den Zitaten geprüft:",
        "es": "Resumen escrito por un modelo de lenguaje, comprobado con las citas:",
        "fr": "Résumé rédigé par un modèle de langage, vérifié d'après les citations :",
        "tr": "Bir dil modelinin yazdığı, alıntılarla karşılaştırılarak denetlenmiş özet:",
        "ru": "Краткое изложение от языковой модели, сверенное с цитатами:",
    },
    "unknown_command": {
        "en": "Unknown command /{command}; /help lists the commands.",
        "de": "Unbekannter Befehl /{command}; /help zeigt alle Befehle.",
        "es": "Comando desconocido /{command}; /help muestra los comandos.",
        "fr": "Commande inconnue /{command} ; /help affiche la liste des commandes.",
        "tr": "Bilinmeyen komut /{command}; komutların listesi için /help.",
        "ru": "Неизвестная команда /{command}; список команд — /help.",
    },
    "slow_down": {
        "en": "Slow down a little, please: one question every {wait} seconds.",
        "de": "Bitte etwas langsamer: eine Frage alle {wait} Sekunden.",
        "es": "Más despacio, por favor: una pregunta cada {wait} segundos.",
        "fr": "Un peu moins vite, s'il vous plaît : une question toutes les {wait} secondes.",
        "tr": "Lütfen biraz yavaşlayın: {wait} saniyede bir soru.",
        "ru": "Пожалуйста, помедленнее: один вопрос раз в {wait} с.",
    },
    "group_too_fast": {
        "en": "This group is asking faster than I may answer. Please try again in a minute.",
        "de": "Diese Gruppe fragt schneller, als ich antworten darf. Bitte versuchen Sie es in einer Minute erneut.",
        "es": "Este grupo pregunta más rápido de lo que puedo responder. Vuelve a intentarlo dentro de un minuto.",
        "fr": "Ce groupe pose des questions plus vite que je ne peux répondre. Veuillez réessayer dans une minute.",
        "tr": "Bu grup, yanıtlayabileceğimden daha hızlı soru soruyor. Lütfen bir dakika sonra tekrar deneyin.",
        "ru": "В этой группе спрашивают быстрее, чем мне разрешено отвечать. Пожалуйста, попробуйте через минуту.",
    },
}

TEXTS: dict[str, dict[str, str]] = {**_CHAT, **COMMAND_TEXTS, **PRIVACY_TEXTS}
MENU = ("ask", "new", "sources", "stats", "privacy", "help")  # the menu everywhere; /start only in private chats


def language(code: str | None) -> str:
    """The language of the table for a Telegram ``language_code`` (an IETF tag): its first part when the table
    has it ("de-AT" → "de"), else English."""
    lang = (code or "").strip().lower().replace("_", "-").split("-")[0]
    return lang if lang in LANGUAGES else DEFAULT


def text(key: str, code: str | None = None, **values: object) -> str:
    """The text ``key`` in the language of ``code`` (English when there is no translation), placeholders filled."""
    entry = TEXTS[key]
    template = entry.get(language(code)) or entry[DEFAULT]
    return template.format(**values) if values else template


def plural(key: str, code: str | None, n: int) -> str:
    """A counted phrase ("1 article", "5 статей"): the form ``n`` takes in the language of ``code``."""
    lang = language(code)
    forms = (TEXTS[key].get(lang) or TEXTS[key][DEFAULT]).split(PLURAL_SEP)
    return forms[min(_form(lang, n), len(forms) - 1)].format(n=n)


def _form(lang: str, n: int) -> int:
    # The CLDR cardinal rules of the table's languages, the integers only.
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return 0
        return 1 if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else 2
    if lang == "fr":
        return 0 if n in (0, 1) else 1
    return 0 if n == 1 else 1


def menu(code: str | None = None) -> list[tuple[str, str]]:
    """``(command, description)`` of the command menu in the language of ``code``."""
    return [(name, text(f"cmd_{name}", code)) for name in MENU]


def placeholders(template: str) -> set[str]:
    """The ``{names}`` a template fills (for the tests that hold translations to English's)."""
    return {name for _, name, _, _ in Formatter().parse(template) if name}


__all__ = ["DEFAULT", "LANGUAGES", "MENU", "TEXTS", "language", "menu", "placeholders", "plural", "text"]
