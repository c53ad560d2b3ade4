"""The translations of ``/privacy``, ``/forget`` and the public ``/stats``: part of ``translations.TEXTS``, kept
apart because the policy is long. The same rules hold (see :mod:`qabot.render.translations`); the admins' part of
``/stats`` stays English, for the bot's operators."""

from __future__ import annotations

PRIVACY_TEXTS: dict[str, dict[str, str]] = {
    "privacy_policy": {
        "en": "<b>What this bot keeps</b>\n"
        "• Each question you ask me, with the chat's id, your user id and the quotes I showed, "
        "so 👍/👎 and <i>More sources</i> work.\n"
        "• Each 👍/👎 you press, with your user id.\n"
        "• {context}\n\n"
        "Everything is deleted after <b>{days}</b>. Nothing else is kept: not your name, "
        "and not messages that are not questions to me. The bot's log may hold chat and user ids when "
        "something fails; its operator keeps that log.\n\n"
        "/forget deletes your questions, your votes and our private chat's conversation now.",
        "de": "<b>Was dieser Bot speichert</b>\n"
        "• Jede Frage, die Sie mir stellen, mit der ID des Chats, Ihrer Nutzer-ID und den Zitaten, die ich gezeigt "
        "habe, damit 👍/👎 und <i>More sources</i> funktionieren.\n"
        "• Jedes 👍/👎, das Sie drücken, mit Ihrer Nutzer-ID.\n"
        "• {context}\n\n"
        "Alles wird nach <b>{days}</b> gelöscht. Sonst wird nichts gespeichert: nicht Ihr Name und keine "
        "Nachrichten, die keine Fragen an mich sind. Das Protokoll des Bots kann Chat- und Nutzer-IDs enthalten, "
        "wenn etwas schiefgeht; dieses Protokoll verwahrt sein Betreiber.\n\n"
        "/forget löscht sofort Ihre Fragen, Ihre Stimmen und das Gespräch in unserem privaten Chat.",
        "es": "<b>Qué guarda este bot</b>\n"
        "• Cada pregunta que me haces, con el id del chat, tu id de usuario y las citas que te mostré, "
        "para que funcionen 👍/👎 y <i>More sources</i>.\n"
        "• Cada 👍/👎 que pulsas, con tu id de usuario.\n"
        "• {context}\n\n"
        "Todo se borra al cabo de <b>{days}</b>. No se guarda nada más: ni tu nombre ni los mensajes que no son "
        "preguntas para mí. El registro del bot puede contener ids de chat y de usuario cuando algo falla; ese "
        "registro lo guarda su operador.\n\n"
        "/forget borra ahora tus preguntas, tus votos y la conversación de nuestro chat privado.",
        "fr": "<b>Ce que ce bot conserve</b>\n"
        "• Chaque question que vous me posez, avec l'identifiant du chat, votre identifiant d'utilisateur et les "
        "citations que j'ai montrées, pour que 👍/👎 et <i>More sources</i> fonctionnent.\n"
        "• Chaque 👍/👎 sur lequel vous appuyez, avec votre identifiant d'utilisateur.\n"
        "• {context}\n\n"
        "Tout est supprimé au bout de <b>{days}</b>. Rien d'autre n'est conservé : ni votre nom, ni les messages "
        "qui ne sont pas des questions qui me sont posées. Le journal du bot peut contenir des identifiants de chat "
        "et d'utilisateur en cas d'erreur ; c'est son exploitant qui le conserve.\n\n"
        "/forget supprime dès maintenant vos questions, vos votes et la conversation de notre chat privé.",
        "tr": "<b>Bu bot neleri saklar</b>\n"
        "• 👍/👎 ve <i>More sources</i> çalışsın diye bana sorduğunuz her soru; sohbetin kimliği, kullanıcı "
        "kimliğiniz ve gösterdiğim alıntılarla birlikte.\n"
        "• Bastığınız her 👍/👎, kullanıcı kimliğinizle birlikte.\n"
        "• {context}\n\n"
        "Her şey <b>{days}</b> sonra silinir. Başka hiçbir şey saklanmaz: ne adınız ne de bana soru olmayan "
        "mesajlar. Bir sorun çıkarsa botun günlüğünde sohbet ve kullanıcı kimlikleri bulunabilir; bu günlüğü botun "
        "işletmecisi tutar.\n\n"
        "/forget sorularınızı, oylarınızı ve özel sohbetimizdeki konuşmayı hemen siler.",
        "ru": "<b>Что хранит этот бот</b>\n"
        "• Каждый ваш вопрос вместе с id чата, вашим id пользователя и показанными цитатами, чтобы работали "
        "👍/👎 и <i>More sources</i>.\n"
        "• Каждое нажатие 👍/👎 вместе с вашим id пользователя.\n"
        "• {context}\n\n"
        "Всё удаляется через <b>{days}</b>. Больше ничего не хранится: ни ваше имя, ни сообщения, которые не "
        "являются вопросами ко мне. Журнал бота может содержать id чатов и пользователей, если что-то пошло не так; "
        "этот журнал хранит оператор бота.\n\n"
        "/forget сразу удаляет ваши вопросы, ваши голоса и разговор в нашем личном чате.",
    },
    "privacy_context": {
        "en": "The topic of the last answer in each conversation, so follow-ups work; it expires after {ttl} minutes.",
        "de": "Das Thema der letzten Antwort in jedem Gespräch, damit Anschlussfragen funktionieren; es verfällt "
        "nach {ttl} Min.",
        "es": "El tema de la última respuesta de cada conversación, para que funcionen las preguntas de "
        "seguimiento; caduca al cabo de {ttl} min.",
        "fr": "Le sujet de la dernière réponse de chaque conversation, pour que les questions de suivi "
        "fonctionnent ; il expire au bout de {ttl} min.",
        "tr": "Devam soruları çalışsın diye her sohbetteki son yanıtın konusu; {ttl} dakika sonra silinir.",
        "ru": "Тема последнего ответа в каждом разговоре, чтобы работали уточняющие вопросы; она удаляется "
        "через {ttl} мин.",
    },
    "privacy_no_context": {
        "en": "Follow-ups are off: no conversation context is kept.",
        "de": "Anschlussfragen sind ausgeschaltet: Es wird kein Gesprächskontext gespeichert.",
        "es": "Las preguntas de seguimiento están desactivadas: no se guarda ningún contexto de conversación.",
        "fr": "Les questions de suivi sont désactivées : aucun contexte de conversation n'est conservé.",
        "tr": "Devam soruları kapalı: sohbet bağlamı saklanmaz.",
        "ru": "Уточняющие вопросы отключены: контекст разговора не хранится.",
    },
    # "deleted after N days": the forms that phrase takes (German's dative, Russian's after "через").
    "after_days": {
        "en": "{n} day|{n} days",
        "de": "{n} Tag|{n} Tagen",
        "es": "{n} día|{n} días",
        "fr": "{n} jour|{n} jours",
        "tr": "{n} gün|{n} gün",
        "ru": "{n} день|{n} дня|{n} дней",
    },
    "forget_who": {
        "en": "I can't tell who you are here: send /forget in a private chat with me.",
        "de": "Ich kann hier nicht erkennen, wer Sie sind: Senden Sie /forget in einem privaten Chat mit mir.",
        "es": "Aquí no sé quién eres: envía /forget en un chat privado conmigo.",
        "fr": "Je ne peux pas savoir qui vous êtes ici : envoyez /forget dans un chat privé avec moi.",
        "tr": "Burada kim olduğunuzu anlayamıyorum: /forget komutunu bana özel sohbetten gönderin.",
        "ru": "Здесь я не могу понять, кто вы: отправьте /forget в личном чате со мной.",
    },
    "forget_nothing": {
        "en": "Nothing to delete: I keep no questions, votes or conversation of yours.",
        "de": "Nichts zu löschen: Ich speichere keine Fragen, Stimmen oder Gespräche von Ihnen.",
        "es": "Nada que borrar: no guardo preguntas, votos ni conversaciones tuyas.",
        "fr": "Rien à supprimer : je ne conserve aucune question, aucun vote ni aucune conversation de votre part.",
        "tr": "Silinecek bir şey yok: size ait soru, oy ya da sohbet saklamıyorum.",
        "ru": "Удалять нечего: я не храню ваших вопросов, голосов или разговоров.",
    },
    "forget_done": {
        "en": "Deleted what I kept of yours: {questions}, {votes}.",
        "de": "Gelöscht, was ich von Ihnen gespeichert hatte: {questions}, {votes}.",
        "es": "He borrado lo que guardaba tuyo: {questions}, {votes}.",
        "fr": "J'ai supprimé ce que je conservais de vous : {questions}, {votes}.",
        "tr": "Sizinle ilgili sakladıklarımı sildim: {questions}, {votes}.",
        "ru": "Я удалил всё, что хранил о вас: {questions}, {votes}.",
    },
    "forget_done_conversation": {
        "en": "Deleted what I kept of yours: {questions}, {votes} and our conversation.",
        "de": "Gelöscht, was ich von Ihnen gespeichert hatte: {questions}, {votes} und unser Gespräch.",
        "es": "He borrado lo que guardaba tuyo: {questions}, {votes} y nuestra conversación.",
        "fr": "J'ai supprimé ce que je conservais de vous : {questions}, {votes} et notre conversation.",
        "tr": "Sizinle ilgili sakladıklarımı sildim: {questions}, {votes} ve sohbetimiz.",
        "ru": "Я удалил всё, что хранил о вас: {questions}, {votes} и наш разговор.",
    },
    "questions": {
        "en": "{n} question|{n} questions",
        "de": "{n} Frage|{n} Fragen",
        "es": "{n} pregunta|{n} preguntas",
        "fr": "{n} question|{n} questions",
        "tr": "{n} soru|{n} soru",
        "ru": "{n} вопрос|{n} вопроса|{n} вопросов",
    },
    "votes": {
        "en": "{n} vote|{n} votes",
        "de": "{n} Stimme|{n} Stimmen",
        "es": "{n} voto|{n} votos",
        "fr": "{n} vote|{n} votes",
        "tr": "{n} oy|{n} oy",
        "ru": "{n} голос|{n} голоса|{n} голосов",
    },
    "stats": {
        "en": "<b>{articles}</b>, {passages}\nNewest article: {newest}\nModel: <code>{model}</code> "
        "({dimension} dimensions)",
        "de": "<b>{articles}</b>, {passages}\nNeuester Artikel: {newest}\nModell: <code>{model}</code> "
        "({dimension} Dimensionen)",
        "es": "<b>{articles}</b>, {passages}\nArtículo más reciente: {newest}\nModelo: <code>{model}</code> "
        "({dimension} dimensiones)",
        "fr": "<b>{articles}</b>, {passages}\nArticle le plus récent : {newest}\nModèle : <code>{model}</code> "
        "({dimension} dimensions)",
        "tr": "<b>{articles}</b>, {passages}\nEn yeni makale: {newest}\nModel: <code>{model}</code> "
        "({dimension} boyut)",
        "ru": "<b>{articles}</b>, {passages}\nСамая свежая статья: {newest}\nМодель: <code>{model}</code> "
        "(размерность {dimension})",
    },
    "passages": {
        "en": "{n} passage|{n} passages",
        "de": "{n} Abschnitt|{n} Abschnitte",
        "es": "{n} pasaje|{n} pasajes",
        "fr": "{n} passage|{n} passages",
        "tr": "{n} pasaj|{n} pasaj",
        "ru": "{n} фрагмент|{n} фрагмента|{n} фрагментов",
    },
    "unknown_date": {
        "en": "unknown",
        "de": "unbekannt",
        "es": "desconocido",
        "fr": "inconnu",
        "tr": "bilinmiyor",
        "ru": "неизвестно",
    },
}

__all__ = ["PRIVACY_TEXTS"]
