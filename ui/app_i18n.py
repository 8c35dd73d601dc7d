"""The app's words in one language at a time: Arabic (the default) or English.

    tr(lang, key, **values) -> the text of `key` in `lang` ("ar" or "en"), formatted

Every label, message and note the app shows comes from here, so switching the
interface language never leaves a mixed, bilingual label behind. Answers themselves
are in the language of the question (the engine decides that).
"""
from __future__ import annotations

LANGUAGES = ("ar", "en")
DEFAULT_LANGUAGE = "ar"
LANGUAGE_CHOICES = [("العربية", "ar"), ("English", "en")]

_AR = {
    "title": "إسناد",
    "subtitle": "اسأل الوثائق العربية، وكل إجابة بإسنادها: المقطع والجملة التي تستند إليها",
    "stat": "{docs} وثائق · {chunks} مقطعاً · {emb}",
    "tab_chat": "المحادثة", "tab_docs": "الوثائق", "tab_eval": "التقييم",
    "placeholder_chat": "اكتب سؤالاً عن الوثائق، أو اختر مثالاً أدناه.<br>أسئلة المتابعة تستفيد من سياق المحادثة.",
    "placeholder_input": "اكتب سؤالك هنا… (Enter للإرسال)",
    "send": "اسأل", "new": "محادثة جديدة", "export": "تصدير (Markdown)",
    "conversations": "المحادثات", "theme": "الوضع الداكن / الفاتح", "language": "اللغة",
    "llm": "إجابة مولّدة بالنموذج اللغوي ({model})",
    "k": "عدد المقاطع (k)", "show_all": "عرض كل المقاطع المسترجعة", "settings": "إعدادات الاسترجاع",
    "examples": "أمثلة",
    "followup": "↩︎ سؤال متابعة: بُحث فيه مع السؤال السابق",
    "sources_1": "مصدر واحد", "sources_2": "مصدران", "sources_n": "{n} مصادر",
    "cite_title": "المصدر {n}", "copy_answer": "نسخ", "copy_title": "نسخ الإجابة مع مصادرها المرقّمة",
    "no_answer": "لا إجابة في الوثائق",
    "by": "كتبه {model}، وتحقق إسناد من مصادره",
    "pending": "يبحث إسناد في الوثائق ويكتب النموذج اللغوي{model} الإجابة",
    "draft": "مسودة يكتبها النموذج اللغوي{model}، لم يُتحقق منها بعد",
    "err_empty": "السؤال فارغ. اكتب سؤالك ثم اضغط «اسأل».",
    "err_nowords": "لا يحتوي السؤال على كلمات يمكن البحث عنها.",
    "err_long": "السؤال طويل جداً ({n} حرفاً)؛ الحد الأقصى {max:,} حرف. اختصره وأعد المحاولة.",
    "err_unknown": "تعذّر فهم السؤال.",
    "err_internal": "حدث خطأ غير متوقع أثناء الإجابة. أعد المحاولة، وإن تكرر فراجع سجلّ الخادم.",
    "sources_empty": "ستظهر هنا المقاطع التي تستند إليها الإجابة، مع الجملة المقتبسة مظلَّلة.",
    "score": "درجة {s}",
    "score_title": ("درجة الاسترجاع: مجموع درجتي البحث الدلالي وBM25 بعد الدمج؛ "
                    "أعلى = أقرب إلى السؤال. للمقارنة بين مقاطع الإجابة نفسها، وليست احتمالاً."),
    "page": "ص {n}", "open_here": "افتح الوثيقة عند هذا الموضع ↖",
    "head_abstain": "لا مصادر: لم تُعطَ إجابة ({n} مقاطع مسترجعة)",
    "head_cited": "المصادر: {cited} مستشهَد بها من {n} مقاطع مسترجعة",
    "copy_sources": "نسخ الإجابة مع مصادرها", "copy_plain": "نسخ نصاً عادياً",
    "others": "مقاطع مسترجعة أخرى (غير مستشهد بها)",
    "none_cited": "لم يُستشهد بأي مقطع.", "hint_show_all": " فعّل «عرض كل المقاطع المسترجعة» لرؤية ما وُجد.",
    "plain_q": "س: {q}", "plain_sources": "المصادر:", "plain_by": "(كتبه {model}، وتحقق إسناد من مصادره)",
    "plain_where": "{doc}{page}، الأحرف {start}–{end}", "plain_page": "، ص {n}",
    "meta_source": "المصدر", "meta_date": "التاريخ", "meta_language": "اللغة",
    "doc_where": "{label} الاقتباس مظلَّل أدناه ({page}الأحرف {start:,}–{end:,} من {n:,})",
    "doc_page": "ص {n}، ",
    "col_title": "العنوان", "col_source": "المصدر", "col_date": "التاريخ", "col_language": "اللغة",
    "col_chunks": "المقاطع", "view": "عرض", "no_docs": "لا وثائق في الفهرس.",
    "st_docs": "الوثائق", "st_chunks": "المقاطع", "st_embedder": "نموذج التضمين", "st_dim": "الأبعاد",
    "st_faiss": "فهرس FAISS", "st_built": "تاريخ البناء", "st_home": "مجلد البيانات",
    "skipped": "ملفات لم تُفهرس ({n})",
    "h_status": "حالة الفهرس", "h_docs": "الوثائق المفهرسة", "close": "إغلاق ✕",
    "lang_ar": "العربية", "lang_en": "الإنجليزية", "lang_fr": "الفرنسية", "lang_tr": "التركية",
    "lang_ru": "الروسية", "lang_fa": "الفارسية",
    "conv_untitled": "محادثة جديدة",
    "md_title": "# محادثة إسناد", "md_q": "**السؤال:** {q}", "md_sources": "**المصادر:**",
    "export_empty": "لا شيء لتصديره بعد: اسأل سؤالاً أولاً.",
    # evaluation tab
    "eval_intro": ("شغّل مجموعة الأسئلة الثابتة على الفهرس وقِس الاسترجاع (R@1، R@5، MRR)، "
                   "واحتواء الاقتباس على الإجابة الذهبية، والامتناع لكل فئة أسئلة."),
    "eval_suite": "مجموعة التقييم", "eval_limit": "عدد الأسئلة (0 = كلها)", "eval_run": "شغّل التقييم",
    "eval_none": "لم يُشغَّل تقييم بعد.", "eval_running": "جارٍ التقييم: {suite}",
    "eval_summary": "{suite}: {n} سؤالاً في {secs:.1f} ث",
    "eval_metric": "المقياس", "eval_value": "القيمة", "eval_prev": "التشغيل السابق", "eval_delta": "الفرق",
    "eval_cat": "الفئة", "eval_questions": "الأسئلة", "eval_abstained": "امتنع",
    "eval_quote_gold": "الاقتباس يحوي الإجابة",
    "eval_failures": "الإخفاقات ({n})", "eval_no_failures": "لا إخفاقات.",
    "eval_rank": "الرتبة", "eval_open": "افتحه في المحادثة",
    "eval_no_prev": "لا تشغيل سابق للمقارنة.", "eval_prev_from": "مقارنة بتشغيل {created}",
    "eval_error": "تعذّر التقييم: {err}",
    "eval_plot": "الاسترجاع عند k",
    "cats": "حسب الفئة",
    # documents tab
    "up_head": "إضافة وثائق وحذفها",
    "up_note": "أضف وثائق ({formats})، بحد أقصى {mb:.0f} ميغابايت للملف. تبقى الوثائق المضافة في مجلد البيانات حتى تحذفها.",
    "up_files": "الملفات", "up_add": "أضف إلى الفهرس", "up_choice": "وثيقة مضافة", "up_remove": "احذف من الفهرس",
    "up_choose": "اختر ملفاً أولاً.", "up_checking": "جارٍ فحص الوثائق…", "up_failed": "لم تُضف الوثيقة: {err}",
    "up_added": "أضيفت: {names} ({chunks} مقطعاً في الفهرس). يمكنك السؤال عنها الآن.",
    "rm_choose": "اختر وثيقة مضافة لحذفها.", "rm_running": "جارٍ الحذف…", "rm_failed": "لم تُحذف الوثيقة: {err}",
    "rm_done": "حُذفت: {names}",
}

_EN = {
    "title": "Isnad",
    "subtitle": "Ask Arabic documents; every answer comes with its source: the passage and the sentence it rests on",
    "stat": "{docs} documents · {chunks} chunks · {emb}",
    "tab_chat": "Chat", "tab_docs": "Documents", "tab_eval": "Evaluation",
    "placeholder_chat": "Ask a question about the documents, or pick an example below.<br>Follow-up questions use the conversation.",
    "placeholder_input": "Type your question… (Enter to send)",
    "send": "Ask", "new": "New conversation", "export": "Export (Markdown)",
    "conversations": "Conversations", "theme": "Dark / light", "language": "Language",
    "llm": "Answer written by the language model ({model})",
    "k": "Passages (k)", "show_all": "Show every retrieved passage", "settings": "Retrieval settings",
    "examples": "Examples",
    "followup": "↩︎ Follow-up: searched together with the previous question",
    "sources_1": "1 source", "sources_2": "2 sources", "sources_n": "{n} sources",
    "cite_title": "Source {n}", "copy_answer": "Copy", "copy_title": "Copy the answer with its numbered sources",
    "no_answer": "No answer in the documents",
    "by": "Written by {model}; sources checked by Isnad",
    "pending": "Isnad is searching the documents and the language model{model} is writing the answer",
    "draft": "Draft by the language model{model}, not checked yet",
    "err_empty": "The question is empty. Type your question, then press Ask.",
    "err_nowords": "The question has no words to search for.",
    "err_long": "The question is too long ({n} characters); the limit is {max:,}. Shorten it and try again.",
    "err_unknown": "The question could not be understood.",
    "err_internal": "Something went wrong while answering. Try again; if it persists, check the server log.",
    "sources_empty": "The passages the answer rests on appear here, with the quoted sentence highlighted.",
    "score": "score {s}",
    "score_title": ("Retrieval score: the fused dense + BM25 score; higher = closer to the question. "
                    "Compare it between the passages of one answer; it is not a probability."),
    "page": "p. {n}", "open_here": "Open the document at this place ↗",
    "head_abstain": "No sources: no answer given ({n} passages retrieved)",
    "head_cited": "Sources: {cited} cited of {n} passages retrieved",
    "copy_sources": "Copy the answer with its sources", "copy_plain": "Copy as plain text",
    "others": "Other retrieved passages (not cited)",
    "none_cited": "No passage was cited.", "hint_show_all": " Turn on “Show every retrieved passage” to see what was found.",
    "plain_q": "Q: {q}", "plain_sources": "Sources:", "plain_by": "(written by {model}; sources checked by Isnad)",
    "plain_where": "{doc}{page}, characters {start}–{end}", "plain_page": ", p. {n}",
    "meta_source": "Source", "meta_date": "Date", "meta_language": "Language",
    "doc_where": "{label} the quote is highlighted below ({page}characters {start:,}–{end:,} of {n:,})",
    "doc_page": "p. {n}, ",
    "col_title": "Title", "col_source": "Source", "col_date": "Date", "col_language": "Language",
    "col_chunks": "Chunks", "view": "View", "no_docs": "No documents in the index.",
    "st_docs": "Documents", "st_chunks": "Chunks", "st_embedder": "Embedder", "st_dim": "Dimensions",
    "st_faiss": "FAISS index", "st_built": "Built", "st_home": "Data directory",
    "skipped": "Files not indexed ({n})",
    "h_status": "Index status", "h_docs": "Indexed documents", "close": "Close ✕",
    "lang_ar": "Arabic", "lang_en": "English", "lang_fr": "French", "lang_tr": "Turkish",
    "lang_ru": "Russian", "lang_fa": "Persian",
    "conv_untitled": "New conversation",
    "md_title": "# Isnad conversation", "md_q": "**Question:** {q}", "md_sources": "**Sources:**",
    "export_empty": "Nothing to export yet: ask a question first.",
    "eval_intro": ("Run the fixed question set against the index and measure retrieval (R@1, R@5, MRR), "
                   "whether the quote contains the gold answer, and abstention per question category."),
    "eval_suite": "Suite", "eval_limit": "Questions (0 = all)", "eval_run": "Run the evaluation",
    "eval_none": "No evaluation run yet.", "eval_running": "Evaluating: {suite}",
    "eval_summary": "{suite}: {n} questions in {secs:.1f} s",
    "eval_metric": "Metric", "eval_value": "Value", "eval_prev": "Previous run", "eval_delta": "Change",
    "eval_cat": "Category", "eval_questions": "Questions", "eval_abstained": "Abstained",
    "eval_quote_gold": "Quote ⊇ gold",
    "eval_failures": "Failures ({n})", "eval_no_failures": "No failures.",
    "eval_rank": "Rank", "eval_open": "Open in the chat",
    "eval_no_prev": "No previous run to compare with.", "eval_prev_from": "Compared with the run of {created}",
    "eval_error": "The evaluation failed: {err}",
    "eval_plot": "Recall at k",
    "cats": "Per category",
    "up_head": "Add and remove documents",
    "up_note": "Add documents ({formats}), up to {mb:.0f} MB a file. Added documents stay in the data directory until you remove them.",
    "up_files": "Files", "up_add": "Add to the index", "up_choice": "Added document", "up_remove": "Remove from the index",
    "up_choose": "Choose a file first.", "up_checking": "Checking the documents…", "up_failed": "The document was not added: {err}",
    "up_added": "Added: {names} ({chunks} chunks in the index). You can ask about it now.",
    "rm_choose": "Choose an added document to remove.", "rm_running": "Removing…", "rm_failed": "The document was not removed: {err}",
    "rm_done": "Removed: {names}",
}

STRINGS = {"ar": _AR, "en": _EN}


def norm_lang(lang: object) -> str:
    """Anything -> "ar" or "en" (the default for what is not a known language)."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def tr(lang: object, key: str, **values: object) -> str:
    text = STRINGS[norm_lang(lang)][key]
    return text.format(**values) if values else text


def direction(lang: object) -> str:
    return "rtl" if norm_lang(lang) == "ar" else "ltr"
