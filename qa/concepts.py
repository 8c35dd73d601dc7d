"""Common English words of questions with their usual Arabic equivalents, so that an
English question about Arabic documents has keywords beyond its names ("founded" ->
تأسس, "population" -> سكان): without them the keyword side of a cross-lingual question
holds only its names, which a collection about one region repeats in every passage.

A generic table of everyday news and reference vocabulary: no names and no facts of any
collection (names go through qa.transliteration). A word missing from it costs nothing
(the question keeps its names and its dense side); a word in it adds Arabic keywords that
the lexical search, the name bonus and the coverage re-rank weigh like the names.
"""
from __future__ import annotations

import re

# English word (lower case, as typed) -> Arabic words as texts commonly write them.
_TABLE = {
    # time
    "year": "عام سنة", "years": "أعوام سنوات", "month": "شهر", "months": "أشهر", "week": "أسبوع",
    "day": "يوم", "days": "أيام", "date": "تاريخ", "century": "قرن", "period": "فترة", "decade": "عقد",
    "age": "عمر", "annual": "سنوي", "annually": "سنويا", "history": "تاريخ", "ancient": "قديم",
    # events and acts
    "founded": "تأسست تأسس تأسيس", "established": "تأسست تأسس أنشئت تأسيس", "created": "أنشئ إنشاء",
    "built": "بني بناء شيد", "construction": "بناء إنشاء", "opened": "افتتح افتتاح", "launched": "أطلق إطلاق",
    "launch": "أطلق إطلاق", "began": "بدأ بدأت", "begin": "بدأ بدأت", "started": "بدأ بدأت", "start": "بدأ بداية",
    "ended": "انتهى انتهت", "end": "نهاية", "joined": "انضم انضمت", "join": "انضمام", "withdrew": "انسحب انسحاب",
    "signed": "وقع وقعت توقيع", "sign": "وقع توقيع", "approved": "وافق صادق", "approve": "وافق موافقة",
    "rejected": "رفض", "announced": "أعلن أعلنت", "elected": "انتخب", "appointed": "عين تعيين",
    "won": "فاز", "lost": "خسر", "died": "توفي", "born": "ولد", "killed": "قتل", "attacked": "هاجم",
    "held": "عقد عقدت", "hold": "عقد", "took": "شارك", "participated": "شارك مشاركة",
    "published": "نشر", "wrote": "كتب", "reported": "ذكر أفاد", "said": "قال", "stated": "صرح",
    "visit": "زيارة", "visited": "زار زيارة", "meet": "اجتمع اجتماع", "met": "اجتمع", "bought": "اشترى شراء",
    "buy": "شراء", "sold": "باع بيع", "produce": "ينتج إنتاج", "produced": "أنتج", "earn": "حقق", "earned": "حقق",
    "invaded": "غزا", "occupied": "احتل", "independence": "استقلال", "called": "يسمى تسمى", "named": "سمي",
    "known": "يعرف تعرف", "famous": "تشتهر اشتهر", "means": "تعني", "mean": "تعني", "lies": "تقع", "located": "تقع",
    # documents and gatherings
    "agreement": "اتفاق اتفاقية", "agreements": "اتفاقيات اتفاقات", "treaty": "معاهدة", "memorandum": "مذكرة",
    "memoranda": "مذكرات", "declaration": "إعلان", "law": "قانون", "bill": "مشروع قانون", "constitution": "دستور",
    "decision": "قرار", "resolution": "قرار", "report": "تقرير", "study": "دراسة", "book": "كتاب", "letter": "رسالة",
    "message": "رسالة", "speech": "كلمة خطاب", "statement": "بيان", "slogan": "شعار", "title": "عنوان",
    "meeting": "اجتماع لقاء", "summit": "قمة", "conference": "مؤتمر", "talks": "محادثات مباحثات",
    "consultations": "مشاورات", "negotiations": "مفاوضات", "election": "انتخابات", "elections": "انتخابات",
    "plan": "خطة", "project": "مشروع", "programme": "برنامج", "program": "برنامج", "strategy": "استراتيجية",
    "reform": "إصلاح", "policy": "سياسة", "cooperation": "تعاون", "partnership": "شراكة", "alliance": "تحالف",
    # people and bodies
    "minister": "وزير", "ministers": "وزراء", "ministry": "وزارة", "president": "رئيس الرئيس", "prime": "رئيس الوزراء",
    "leader": "زعيم قائد", "head": "رئيس", "chairman": "رئيس", "director": "مدير", "founder": "مؤسس",
    "king": "ملك", "queen": "ملكة", "prince": "أمير", "government": "حكومة", "parliament": "برلمان",
    "member": "عضو", "members": "أعضاء", "organization": "منظمة", "organisation": "منظمة", "council": "مجلس",
    "union": "اتحاد", "party": "حزب", "court": "محكمة", "police": "شرطة", "army": "جيش", "forces": "قوات",
    "troops": "قوات جنود", "soldiers": "جنود", "delegation": "وفد", "ambassador": "سفير", "embassy": "سفارة",
    "author": "مؤلف كاتب", "writer": "كاتب", "poet": "شاعر", "scientist": "عالم", "company": "شركة",
    "companies": "شركات", "bank": "بنك مصرف", "university": "جامعة", "school": "مدرسة", "students": "طلاب",
    "newspaper": "صحيفة", "magazine": "مجلة", "agency": "وكالة", "institute": "معهد", "centre": "مركز",
    "center": "مركز", "people": "سكان شعب", "citizens": "مواطنين", "population": "سكان",
    # places
    "capital": "عاصمة", "city": "مدينة", "cities": "مدن", "country": "دولة بلد", "countries": "دول بلدان",
    "state": "دولة", "states": "دول", "region": "منطقة", "province": "محافظة ولاية", "village": "قرية",
    "border": "حدود", "borders": "حدود", "river": "نهر", "mountain": "جبل", "mountains": "جبال", "range": "سلسلة",
    "sea": "بحر", "lake": "بحيرة", "island": "جزيرة", "desert": "صحراء", "coast": "ساحل", "area": "مساحة",
    "road": "طريق", "railway": "سكة حديد", "rail": "سكك", "airport": "مطار", "port": "ميناء", "route": "مسار طريق",
    "corridor": "ممر", "pipeline": "خط أنابيب", "headquarters": "مقر", "hospital": "مستشفى", "museum": "متحف",
    "mosque": "مسجد", "church": "كنيسة", "palace": "قصر", "bridge": "جسر",
    # economy and figures
    "trade": "تجارة التبادل التجاري", "exports": "صادرات", "export": "تصدير صادرات", "imports": "واردات",
    "import": "استيراد", "oil": "نفط", "gas": "غاز", "energy": "طاقة", "electricity": "كهرباء", "water": "مياه",
    "budget": "ميزانية", "investment": "استثمار", "investments": "استثمارات", "price": "سعر", "cost": "تكلفة",
    "revenue": "إيرادات", "income": "دخل", "debt": "دين ديون", "aid": "مساعدات", "tax": "ضريبة",
    "dollars": "دولار", "million": "مليون", "billion": "مليار", "percent": "بالمئة", "percentage": "نسبة",
    "production": "إنتاج", "growth": "نمو", "economy": "اقتصاد", "capacity": "قدرة طاقة", "volume": "حجم",
    "number": "عدد", "total": "إجمالي مجموع", "value": "قيمة", "length": "طول", "height": "ارتفاع",
    "tonnes": "طن", "tons": "طن", "kilometres": "كيلومتر كم", "kilometers": "كيلومتر كم", "flights": "رحلات",
    # security
    "war": "حرب", "peace": "سلام", "security": "أمن", "defence": "دفاع", "defense": "دفاع", "military": "عسكري",
    "exercise": "مناورات تدريبات", "exercises": "مناورات تدريبات", "training": "تدريب", "drones": "مسيرات طائرات",
    "aircraft": "طائرات", "weapons": "أسلحة", "missiles": "صواريخ", "attack": "هجوم", "crisis": "أزمة",
    # other common content words
    "language": "لغة", "languages": "لغات", "religion": "دين", "currency": "عملة", "flag": "علم", "name": "اسم",
    "word": "كلمة", "culture": "ثقافة", "education": "تعليم", "health": "صحة", "disease": "مرض",
    "first": "أول الأول", "second": "الثاني", "third": "الثالث", "fourth": "الرابع", "fifth": "الخامس",
    "last": "آخر", "largest": "أكبر", "biggest": "أكبر", "smallest": "أصغر", "longest": "أطول",
    "highest": "أعلى", "oldest": "أقدم", "new": "جديد", "joint": "مشترك مشتركة",
}
_WORD = re.compile(r"[A-Za-z]+")


def arabic_equivalents(question: str) -> str:
    """The Arabic equivalents of the question's common English words, space-separated
    ("" if none: a question in another language, or with none of the table's words)."""
    out: list[str] = []
    for w in _WORD.findall(question):
        got = _TABLE.get(w.lower())
        if got:
            out.extend(got.split())
    return " ".join(dict.fromkeys(out))
