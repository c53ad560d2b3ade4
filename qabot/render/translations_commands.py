"""The translations of ``/start``, ``/help`` and ``/sources`` and of the command menus: part of
``translations.TEXTS``, kept apart because the help is long. The same rules hold (see
:mod:`qabot.render.translations`)."""

from __future__ import annotations

COMMAND_TEXTS: dict[str, dict[str, str]] = {
    # /start: the greeting around "{knows}" (what the index holds) and "{group_usage}" (how to ask in groups).
    "start": {
        "en": "Hi! I answer questions about the news by quoting the articles I have, with links to the sources. "
        "If the articles don't say, I tell you so instead of guessing.\n\n"
        "{knows}\n\nJust send me a question. {group_usage} /help for more.",
        "de": "Hallo! Ich beantworte Fragen zu den Nachrichten mit Zitaten aus meinen Artikeln und Links zu den "
        "Quellen. Wenn die Artikel es nicht sagen, sage ich Ihnen das, statt zu raten.\n\n"
        "{knows}\n\nSchicken Sie mir einfach eine Frage. {group_usage} Mehr unter /help.",
        "es": "¡Hola! Respondo preguntas sobre las noticias citando los artículos que tengo, con enlaces a las "
        "fuentes. Si los artículos no lo dicen, te lo digo en lugar de adivinar.\n\n"
        "{knows}\n\nEnvíame una pregunta. {group_usage} Más en /help.",
        "fr": "Bonjour ! Je réponds aux questions sur l'actualité en citant les articles dont je dispose, avec des "
        "liens vers les sources. Si les articles ne le disent pas, je vous le dis au lieu de deviner.\n\n"
        "{knows}\n\nEnvoyez-moi simplement une question. {group_usage} Plus d'infos : /help.",
        "tr": "Merhaba! Haberlerle ilgili soruları elimdeki makalelerden alıntı yaparak, kaynak bağlantılarıyla "
        "yanıtlarım. Makalelerde yanıt yoksa tahmin yürütmek yerine bunu size söylerim.\n\n"
        "{knows}\n\nBana bir soru göndermeniz yeterli. {group_usage} Daha fazlası için /help.",
        "ru": "Здравствуйте! Я отвечаю на вопросы о новостях цитатами из моих статей, со ссылками на источники. "
        "Если в статьях ответа нет, я так и скажу, а не буду гадать.\n\n"
        "{knows}\n\nПросто пришлите мне вопрос. {group_usage} Подробнее — /help.",
    },
    "knows": {
        "en": "I know {articles}.",
        "de": "Ich kenne {articles}.",
        "es": "Conozco {articles}.",
        "fr": "Je connais {articles}.",
        "tr": "Elimde {articles} var.",
        "ru": "У меня {articles}.",
    },
    "knows_newest": {
        "en": "I know {articles}, the newest from {newest}.",
        "de": "Ich kenne {articles}, der neueste vom {newest}.",
        "es": "Conozco {articles}; el más reciente es del {newest}.",
        "fr": "Je connais {articles} ; le plus récent date du {newest}.",
        "tr": "Elimde {articles} var; en yenisi {newest} tarihli.",
        "ru": "У меня {articles}, самая свежая — от {newest}.",
    },
    # A counted phrase: its forms split by PLURAL_SEP, in the order plural() picks them.
    "articles": {
        "en": "{n} article|{n} articles",
        "de": "{n} Artikel|{n} Artikel",
        "es": "{n} artículo|{n} artículos",
        "fr": "{n} article|{n} articles",
        "tr": "{n} makale|{n} makale",
        "ru": "{n} статья|{n} статьи|{n} статей",
    },
    "group_usage": {
        "en": "In groups, mention {name}, reply to one of my messages, or use <code>{ask} your question</code>.",
        "de": "In Gruppen erwähnen Sie {name}, antworten auf eine meiner Nachrichten oder schreiben "
        "<code>{ask} Ihre Frage</code>.",
        "es": "En grupos, menciona a {name}, responde a uno de mis mensajes o usa <code>{ask} tu pregunta</code>.",
        "fr": "Dans les groupes, mentionnez {name}, répondez à l'un de mes messages ou utilisez "
        "<code>{ask} votre question</code>.",
        "tr": "Gruplarda {name} yazarak bana seslenin, mesajlarımdan birini yanıtlayın ya da "
        "<code>{ask} sorunuz</code> yazın.",
        "ru": "В группах упомяните {name}, ответьте на одно из моих сообщений или напишите "
        "<code>{ask} ваш вопрос</code>.",
    },
    # The same when the bot's username is unknown (it always is known once getMe has answered).
    "group_usage_plain": {
        "en": "In groups, mention me, reply to one of my messages, or use <code>/ask your question</code>.",
        "de": "In Gruppen erwähnen Sie mich, antworten auf eine meiner Nachrichten oder schreiben "
        "<code>/ask Ihre Frage</code>.",
        "es": "En grupos, mencióname, responde a uno de mis mensajes o usa <code>/ask tu pregunta</code>.",
        "fr": "Dans les groupes, mentionnez-moi, répondez à l'un de mes messages ou utilisez "
        "<code>/ask votre question</code>.",
        "tr": "Gruplarda beni etiketleyin, mesajlarımdan birini yanıtlayın ya da <code>/ask sorunuz</code> yazın.",
        "ru": "В группах упомяните меня, ответьте на одно из моих сообщений или напишите <code>/ask ваш вопрос</code>.",
    },
    # The note the bot posts when added to a group (in the language of whoever added it).
    "joined_group": {
        "en": "Hi! I answer questions about the news by quoting my articles. To ask me here, mention {name}, "
        "reply to one of my messages, or use <code>{ask} your question</code>. /help for more.",
        "de": "Hallo! Ich beantworte Fragen zu den Nachrichten mit Zitaten aus meinen Artikeln. Um mich hier zu "
        "fragen, erwähnen Sie {name}, antworten auf eine meiner Nachrichten oder schreiben "
        "<code>{ask} Ihre Frage</code>. Mehr unter /help.",
        "es": "¡Hola! Respondo preguntas sobre las noticias citando mis artículos. Para preguntarme aquí, menciona "
        "a {name}, responde a uno de mis mensajes o usa <code>{ask} tu pregunta</code>. Más en /help.",
        "fr": "Bonjour ! Je réponds aux questions sur l'actualité en citant mes articles. Pour me poser une "
        "question ici, mentionnez {name}, répondez à l'un de mes messages ou utilisez "
        "<code>{ask} votre question</code>. Plus d'infos : /help.",
        "tr": "Merhaba! Haberlerle ilgili soruları makalelerimden alıntı yaparak yanıtlarım. Bana burada soru "
        "sormak için {name} yazarak seslenin, mesajlarımdan birini yanıtlayın ya da <code>{ask} sorunuz</code> "
        "yazın. Daha fazlası için /help.",
        "ru": "Здравствуйте! Я отвечаю на вопросы о новостях цитатами из моих статей. Чтобы спросить меня здесь, "
        "упомяните {name}, ответьте на одно из моих сообщений или напишите <code>{ask} ваш вопрос</code>. "
        "Подробнее — /help.",
    },
    "joined_group_plain": {
        "en": "Hi! I answer questions about the news by quoting my articles. To ask me here, mention me, "
        "reply to one of my messages, or use <code>/ask your question</code>. /help for more.",
        "de": "Hallo! Ich beantworte Fragen zu den Nachrichten mit Zitaten aus meinen Artikeln. Um mich hier zu "
        "fragen, erwähnen Sie mich, antworten auf eine meiner Nachrichten oder schreiben "
        "<code>/ask Ihre Frage</code>. Mehr unter /help.",
        "es": "¡Hola! Respondo preguntas sobre las noticias citando mis artículos. Para preguntarme aquí, "
        "mencióname, responde a uno de mis mensajes o usa <code>/ask tu pregunta</code>. Más en /help.",
        "fr": "Bonjour ! Je réponds aux questions sur l'actualité en citant mes articles. Pour me poser une "
        "question ici, mentionnez-moi, répondez à l'un de mes messages ou utilisez "
        "<code>/ask votre question</code>. Plus d'infos : /help.",
        "tr": "Merhaba! Haberlerle ilgili soruları makalelerimden alıntı yaparak yanıtlarım. Bana burada soru "
        "sormak için beni etiketleyin, mesajlarımdan birini yanıtlayın ya da <code>/ask sorunuz</code> yazın. "
        "Daha fazlası için /help.",
        "ru": "Здравствуйте! Я отвечаю на вопросы о новостях цитатами из моих статей. Чтобы спросить меня здесь, "
        "упомяните меня, ответьте на одно из моих сообщений или напишите <code>/ask ваш вопрос</code>. "
        "Подробнее — /help.",
    },
    "help": {
        "en": "<b>How to ask</b>\n"
        "In this chat, send any question as a message, or <code>/ask your question</code>.\n"
        "{group_usage} I stay quiet otherwise.\n\n"
        "Each answer quotes the articles word for word, with numbered sources. "
        "Use 👍/👎 to tell me whether it helped and <i>More sources</i> for further passages.\n\n"
        "Follow-ups such as <i>when did that happen?</i> are read about the last answer: in this chat just ask on, "
        "in groups reply to my answer (each forum topic is its own conversation). /new starts over.\n\n"
        "<b>Commands</b>\n"
        "/ask — ask a question\n/new — start a new conversation\n/sources — the most recent articles\n"
        "/stats — what the index holds\n/privacy — what I keep; /forget deletes yours\n/help — this text",
        "de": "<b>So fragen Sie</b>\n"
        "Schicken Sie mir in diesem Chat Ihre Frage als Nachricht oder schreiben Sie <code>/ask Ihre Frage</code>.\n"
        "{group_usage} Sonst bleibe ich still.\n\n"
        "Jede Antwort zitiert die Artikel wörtlich, mit nummerierten Quellen. "
        "Mit 👍/👎 sagen Sie mir, ob sie geholfen hat; <i>More sources</i> zeigt weitere Stellen.\n\n"
        "Anschlussfragen wie <i>when did that happen?</i> beziehen sich auf die letzte Antwort: Fragen Sie in diesem "
        "Chat einfach weiter, in Gruppen antworten Sie auf meine Antwort (jedes Forenthema ist ein eigenes "
        "Gespräch). /new beginnt von vorn.\n\n"
        "<b>Befehle</b>\n"
        "/ask — eine Frage stellen\n/new — ein neues Gespräch beginnen\n/sources — die neuesten Artikel\n"
        "/stats — was der Index enthält\n/privacy — was ich speichere; /forget löscht Ihre Daten\n"
        "/help — dieser Text",
        "es": "<b>Cómo preguntar</b>\n"
        "En este chat, envía cualquier pregunta como mensaje o escribe <code>/ask tu pregunta</code>.\n"
        "{group_usage} En otro caso, me quedo callado.\n\n"
        "Cada respuesta cita los artículos palabra por palabra, con las fuentes numeradas. "
        "Usa 👍/👎 para decirme si te ha servido y <i>More sources</i> para ver más pasajes.\n\n"
        "Las preguntas de seguimiento como <i>when did that happen?</i> se refieren a la última respuesta: en este "
        "chat sigue preguntando; en grupos, responde a mi respuesta (cada tema de un foro es una conversación "
        "aparte). /new empieza de nuevo.\n\n"
        "<b>Comandos</b>\n"
        "/ask — hacer una pregunta\n/new — empezar una conversación nueva\n/sources — los artículos más recientes\n"
        "/stats — qué contiene el índice\n/privacy — qué guardo; /forget borra lo tuyo\n/help — este texto",
        "fr": "<b>Comment poser une question</b>\n"
        "Dans ce chat, envoyez votre question sous forme de message, ou <code>/ask votre question</code>.\n"
        "{group_usage} Sinon, je reste silencieux.\n\n"
        "Chaque réponse cite les articles mot pour mot, avec des sources numérotées. "
        "Utilisez 👍/👎 pour me dire si elle vous a aidé et <i>More sources</i> pour d'autres passages.\n\n"
        "Les questions de suivi comme <i>when did that happen?</i> portent sur la dernière réponse : dans ce chat, "
        "continuez simplement à demander ; dans les groupes, répondez à ma réponse (chaque sujet de forum est une "
        "conversation distincte). /new repart de zéro.\n\n"
        "<b>Commandes</b>\n"
        "/ask — poser une question\n/new — commencer une nouvelle conversation\n"
        "/sources — les articles les plus récents\n/stats — le contenu de l'index\n"
        "/privacy — ce que je conserve ; /forget supprime vos données\n/help — ce texte",
        "tr": "<b>Nasıl soru sorulur</b>\n"
        "Bu sohbette sorunuzu mesaj olarak gönderin ya da <code>/ask sorunuz</code> yazın.\n"
        "{group_usage} Aksi hâlde sessiz kalırım.\n\n"
        "Her yanıt makalelerden kelimesi kelimesine alıntı yapar, kaynakları numaralandırır. "
        "İşinize yarayıp yaramadığını 👍/👎 ile bildirin; daha fazla pasaj için <i>More sources</i> düğmesine "
        "basın.\n\n"
        "<i>when did that happen?</i> gibi devam soruları son yanıta göre okunur: bu sohbette sormaya devam edin, "
        "gruplarda yanıtıma cevap verin (her forum konusu ayrı bir sohbettir). /new baştan başlatır.\n\n"
        "<b>Komutlar</b>\n"
        "/ask — soru sor\n/new — yeni sohbet başlat\n/sources — en yeni makaleler\n"
        "/stats — dizinde neler var\n/privacy — neleri sakladığım; /forget sizinkileri siler\n/help — bu metin",
        "ru": "<b>Как задать вопрос</b>\n"
        "В этом чате просто пришлите вопрос сообщением или напишите <code>/ask ваш вопрос</code>.\n"
        "{group_usage} В остальных случаях я молчу.\n\n"
        "Каждый ответ дословно цитирует статьи и нумерует источники. "
        "Нажмите 👍/👎, чтобы сказать, помог ли ответ, и <i>More sources</i>, чтобы увидеть другие отрывки.\n\n"
        "Уточняющие вопросы вроде <i>when did that happen?</i> относятся к последнему ответу: в этом чате просто "
        "спрашивайте дальше, в группах отвечайте на мой ответ (у каждой темы форума свой разговор). "
        "/new начинает заново.\n\n"
        "<b>Команды</b>\n"
        "/ask — задать вопрос\n/new — начать новый разговор\n/sources — самые свежие статьи\n"
        "/stats — что есть в индексе\n/privacy — что я храню; /forget удаляет ваши данные\n/help — этот текст",
    },
    "sources_title": {
        "en": "Most recent articles",
        "de": "Die neuesten Artikel",
        "es": "Artículos más recientes",
        "fr": "Articles les plus récents",
        "tr": "En yeni makaleler",
        "ru": "Самые свежие статьи",
    },
    "no_articles": {
        "en": "I have no articles yet.",
        "de": "Ich habe noch keine Artikel.",
        "es": "Todavía no tengo artículos.",
        "fr": "Je n'ai encore aucun article.",
        "tr": "Henüz hiç makalem yok.",
        "ru": "У меня пока нет статей.",
    },
    # The command menus (setMyCommands): plain text, at most 256 characters.
    "cmd_start": {
        "en": "What this bot does",
        "de": "Was dieser Bot kann",
        "es": "Qué hace este bot",
        "fr": "Ce que fait ce bot",
        "tr": "Bu bot ne yapar",
        "ru": "Что умеет этот бот",
    },
    "cmd_ask": {
        "en": "Ask a question about the news",
        "de": "Eine Frage zu den Nachrichten stellen",
        "es": "Hacer una pregunta sobre las noticias",
        "fr": "Poser une question sur l'actualité",
        "tr": "Haberlerle ilgili soru sor",
        "ru": "Задать вопрос о новостях",
    },
    "cmd_new": {
        "en": "Start a new conversation",
        "de": "Ein neues Gespräch beginnen",
        "es": "Empezar una conversación nueva",
        "fr": "Commencer une nouvelle conversation",
        "tr": "Yeni bir sohbet başlat",
        "ru": "Начать новый разговор",
    },
    "cmd_sources": {
        "en": "The most recent articles",
        "de": "Die neuesten Artikel",
        "es": "Los artículos más recientes",
        "fr": "Les articles les plus récents",
        "tr": "En yeni makaleler",
        "ru": "Самые свежие статьи",
    },
    "cmd_stats": {
        "en": "What the index holds",
        "de": "Was der Index enthält",
        "es": "Qué contiene el índice",
        "fr": "Le contenu de l'index",
        "tr": "Dizinde neler var",
        "ru": "Что есть в индексе",
    },
    "cmd_privacy": {
        "en": "What is stored, and /forget",
        "de": "Was gespeichert wird, und /forget",
        "es": "Qué se guarda, y /forget",
        "fr": "Ce qui est conservé, et /forget",
        "tr": "Neler saklanır ve /forget",
        "ru": "Что хранится, и /forget",
    },
    "cmd_help": {
        "en": "How to use this bot",
        "de": "So nutzen Sie diesen Bot",
        "es": "Cómo usar este bot",
        "fr": "Comment utiliser ce bot",
        "tr": "Bu bot nasıl kullanılır",
        "ru": "Как пользоваться ботом",
    },
}

__all__ = ["COMMAND_TEXTS"]
