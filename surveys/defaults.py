"""The two built-in survey templates the institute starts with (staff can edit them)."""

from __future__ import annotations

from surveys.models import Metric, QuestionType, SurveyKind

LIKERT = QuestionType.LIKERT

DEFAULT_TEMPLATES = {
    SurveyKind.POST_COURSE: {
        "title": "과정 만족도 설문",
        "intro": "교육은 어떠셨습니까? 응답은 익명으로 처리되며 더 나은 교육을 위해서만 쓰입니다.",
        "questions": [
            ("교육 내용이 업무에 필요한 내용이었습니까?", LIKERT, True, [], None),
            ("강사의 설명은 이해하기 쉬웠습니까?", LIKERT, True, [], None),
            ("교재와 자료는 충실했습니까?", LIKERT, True, [], None),
            ("교육장과 시설(온라인 환경)은 적절했습니까?", LIKERT, True, [], None),
            ("이 과정에 전반적으로 만족하십니까?", LIKERT, True, [], Metric.OVERALL),
            (
                "더 듣고 싶은 주제를 모두 골라 주세요.",
                QuestionType.MULTIPLE,
                False,
                [
                    "전략물자 판정",
                    "상황허가(캐치올)",
                    "CP 구축·운영",
                    "미국 수출통제(EAR)",
                    "제재 동향",
                ],
                None,
            ),
            ("좋았던 점이나 바라는 점을 자유롭게 적어 주세요.", QuestionType.TEXT, False, [], None),
        ],
    },
    SurveyKind.HALF_YEARLY: {
        "title": "현업만족도 설문(반기)",
        "intro": (
            "지난 반기에 수료하신 교육이 실제 업무에 도움이 되었는지 여쭙니다. 응답은 익명입니다."
        ),
        "questions": [
            ("수료한 교육이 현재 업무에 도움이 되었습니까?", LIKERT, True, [], Metric.HELPFULNESS),
            (
                "교육 내용을 어떻게 활용하셨습니까?",
                QuestionType.SINGLE,
                True,
                [
                    "품목 판정에 활용",
                    "거래 심사에 활용",
                    "사내 교육·전파",
                    "CP 구축에 활용",
                    "아직 활용하지 못함",
                ],
                None,
            ),
            ("업무에 더 도움이 되려면 무엇이 필요할까요?", QuestionType.TEXT, False, [], None),
        ],
    },
}
