"""qa.kinds: does a text hold the kind of answer a question asks for?"""
from __future__ import annotations

import pytest

from corpus.normalize import normalize
from qa.kinds import holds_kind

pytestmark = pytest.mark.unit

Q = normalize("كم عدد الطلاب الذين استقبلتهم الجامعات؟")


@pytest.mark.parametrize("text", ["استقبلت الجامعات تسعة آلاف طالب", "بلغ عددهم ثلاثين ألفاً",
                                  "وصل عدد الطلاب إلى مئتي طالب", "تضاعف العدد ثلاثة أضعاف",
                                  "بلغت الصادرات خمسة مليارات دولار", "يلزم تصويت أغلبية الثلثين",
                                  "بلغ عددهم ثلاثمائة طالب", "منذ التسعينيات"])
def test_a_count_written_out_is_a_number(text):
    assert holds_kind("number", normalize(text), Q)


@pytest.mark.parametrize("text", ["وتسعى تركيا إلى دمج تركمانستان في طريق النقل",  # «تسعى» is no «تسع»
                                  "خلال الفترة الماضية توسع التعاون",  # «الفترة» is no «ألف»
                                  "التقى الوزراء أثناء القمة يوم الأربعاء",  # no «اثنان», no «أربع»
                                  "ستكون الجامعات مفتوحة للطلاب"])  # «ستكون» is no «ست»
def test_a_word_that_merely_begins_like_a_number_is_not_one(text):
    assert not holds_kind("number", normalize(text), Q)
