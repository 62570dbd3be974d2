"""The report's analytics lines (issue 15): what a non-significant change could have
detected, the model versions that differ from the week's baseline, and how the LLM judge
agrees with humans. Every figure and flag comes from a mart; these tests pin the words."""

from __future__ import annotations

from dataclasses import replace

import pytest
from report_examples import report

from reporter.render import render
from reporter.report import JudgeAgreement, VersionFigures, version_differences

NOT_SIGNIFICANT = {"score_change_significant": False, "score_change_p_value": 0.4}

VERSION = VersionFigures(
    model_version="chat-v2.0",
    baseline_version="chat-v1.1",
    score_diff=0.4,
    score_diff_ci_low=0.21,
    score_diff_ci_high=0.59,
    score_diff_significant=True,
    like_ratio_diff_pp=1.2,
    like_ratio_diff_ci_low_pp=-3.0,
    like_ratio_diff_ci_high_pp=5.4,
    like_ratio_diff_significant=False,
    is_low_volume=False,
)

AGREEMENT = JudgeAgreement(
    pair_count=412,
    judge_bias=0.12,
    judge_bias_ci_low=0.05,
    judge_bias_ci_high=0.19,
    quadratic_weighted_kappa=0.81,
    judge_bias_change_significant=False,
    is_low_volume=False,
)


def text_of(value, lang: str) -> str:
    return render(value, lang).text


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "(not significant, could detect ±0.35 points)"),
        ("ko", "(유의하지 않음, ±0.35점부터 감지 가능)"),
    ],
)
def test_a_non_significant_change_says_what_the_sample_could_detect(lang, expected):
    text = text_of(report(**NOT_SIGNIFICANT, score_mde=0.3512), lang)
    assert expected in text
    # Without the mart's MDE (an older build), the verdict stands alone.
    assert "could detect" not in text_of(report(**NOT_SIGNIFICANT), "en")


def test_the_like_ratio_says_what_it_could_detect_only_when_not_significant():
    text = text_of(report(like_ratio_mde_pp=9.04), "en")
    assert "+4.2 pp (not significant, could detect ±9.0 pp)" in text
    significant = report(like_ratio_mde_pp=9.04, like_ratio_change_significant=True)
    assert "could detect ±9.0" not in text_of(significant, "en")


def test_a_significant_version_difference_gets_one_line_as_the_issue_words_it():
    base = report()
    with_versions = replace(base, versions=version_differences([VERSION]))
    text = text_of(with_versions, "en")
    assert "🆚 Model versions" in text
    assert "chat-v2.0 vs chat-v1.1: +0.40 (95% CI +0.21 to +0.59)" in text
    # The like ratio's difference is not significant: no line for it.
    assert "like ratio +1.2" not in text
    assert "chat-v2.0 vs chat-v1.1: +0.40 (95% 신뢰구간 +0.21 ~ +0.59)" in text_of(
        with_versions, "ko"
    )
    assert "Model versions" not in text_of(base, "en")


def test_version_differences_keep_what_the_mart_flags_and_nothing_else():
    like = replace(
        VERSION,
        model_version="chat-v3.0",
        score_diff_significant=False,
        like_ratio_diff_pp=-6.0,
        like_ratio_diff_ci_low_pp=-9.5,
        like_ratio_diff_ci_high_pp=-2.5,
        like_ratio_diff_significant=True,
    )
    rows = [
        like,
        VERSION,
        replace(VERSION, model_version="chat-v1.1"),  # the baseline against itself
        replace(VERSION, model_version="chat-v9", is_low_volume=True),
        replace(VERSION, model_version="chat-v8", score_diff_significant=False),
    ]
    found = version_differences(rows)
    assert [(d.model_version, d.metric, d.difference) for d in found] == [
        ("chat-v2.0", "score", 0.4),
        ("chat-v3.0", "like_ratio", -6.0),
    ]
    text = text_of(replace(report(), versions=found), "en")
    assert "chat-v3.0 vs chat-v1.1: like ratio -6.0 pp (95% CI -9.5 pp to -2.5 pp)" in text


def test_a_version_name_cannot_format_the_message():
    hostile = replace(VERSION, model_version="*bold* <!channel>")
    text = text_of(replace(report(), versions=version_differences([hostile])), "en")
    assert "<!channel>" not in text and "*bold*" not in text


def test_the_judge_agreement_line():
    text = text_of(replace(report(), agreement=AGREEMENT), "en")
    assert (
        "LLM judge vs humans: bias +0.12 (95% CI +0.05 to +0.19), weighted κ 0.81, 412 pairs"
        in (text)
    )
    ko = text_of(replace(report(), agreement=AGREEMENT), "ko")
    assert "LLM 심사 vs 사람: 편향 +0.12 (95% 신뢰구간 +0.05 ~ +0.19), 가중 카파 0.81, 412쌍" in ko
    drift = replace(AGREEMENT, judge_bias_change_significant=True)
    assert "⚠️ bias changed significantly" in text_of(replace(report(), agreement=drift), "en")
    few = replace(AGREEMENT, pair_count=12, is_low_volume=True, judge_bias_change_significant=True)
    few_text = text_of(replace(report(), agreement=few), "en")
    assert "12 pairs (⚠️ low volume)" in few_text and "bias changed" not in few_text
    assert "LLM judge" not in text_of(report(), "en")
