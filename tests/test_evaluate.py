"""Answer-quality scoring as shared/eval/news-qa/README.md defines it, on hand-made answers; and `qabot eval`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from qabot.evaluate.metrics import EvalQuestion, content_words, evaluate, read_questions, same_story_groups, score
from qabot.models import Answer, Quote
from tests.helpers import run_qabot  # one way to run the CLI in tests

TITLES = {
    "rates": "Bank holds rates",
    "rates-copy": "Bank holds rates",  # the same story published twice: either copy is the source
    "heat": "Heatwave empties reservoir",
    "tram": "Tram line opens",
    "bakery": "Old bakery closes",
}
GROUPS = same_story_groups(TITLES.items())


def quote(article_id: str, text: str) -> Quote:
    return Quote(text, article_id, TITLES[article_id], None, None, None, 0, len(text), 0.9)


def answered(*quotes: Quote) -> Answer:
    return Answer("q", False, "…", tuple(quotes))


DECLINED = Answer("q", True, "The articles don't answer this question.", ())


def test_content_words_drop_stopwords_and_case() -> None:
    assert content_words("The Bank kept the rate at 4.25 percent, it said.") == {
        "bank",
        "kept",
        "rate",
        "4",
        "25",
        "percent",
    }


def test_duplicated_titles_form_one_story() -> None:
    assert GROUPS["rates"] == GROUPS["rates-copy"] == {"rates", "rates-copy"}
    assert GROUPS["heat"] == {"heat"}


def test_first_quote_from_the_gold_article() -> None:
    q = EvalQuestion(
        "1", "?", answer="four percent", evidence="The bank kept the rate at four percent", article_id="rates"
    )
    a = answered(quote("rates", "The bank kept its rate at four percent."), quote("heat", "The reservoir is low."))
    s = score(a, q, GROUPS)
    assert (s.hit1, s.hit3, s.ev, s.ans, s.abstained) == (1.0, 1.0, 1.0, 1.0, False)
    assert s.chars == len("The bank kept its rate at four percent.") + len("The reservoir is low.")


def test_the_duplicate_counts_as_the_gold_article() -> None:
    q = EvalQuestion("2", "?", answer="held", evidence="rates held", article_id="rates")
    s = score(answered(quote("rates-copy", "Rates were held.")), q, GROUPS)
    assert (s.hit1, s.hit3) == (1.0, 1.0)


def test_gold_as_second_article_is_a_hit_at_3_only_and_words_count_partly() -> None:
    q = EvalQuestion("3", "?", answer="held steady", evidence="rates held steady in May", article_id="rates")
    a = answered(quote("heat", "The reservoir fell to 31 percent."), quote("rates", "Rates were held in May."))
    s = score(a, q, GROUPS)
    assert (s.hit1, s.hit3) == (0.0, 1.0)
    assert s.ev == pytest.approx(3 / 4)  # rates, held, may of {rates, held, steady, may}
    assert s.ans == pytest.approx(1 / 2)  # held of {held, steady}


def test_only_the_first_three_distinct_articles_and_quotes_count() -> None:
    q = EvalQuestion("4", "?", answer="closed", evidence="bakery closed", article_id="bakery")
    texts = ["Heat.", "Trams run.", "Rates held.", "The bakery closed."]
    a = answered(*(quote(aid, t) for aid, t in zip(["heat", "tram", "rates", "bakery"], texts, strict=True)))
    s = score(a, q, GROUPS)
    assert (s.hit1, s.hit3, s.ev, s.ans) == (0.0, 0.0, 0.0, 0.0)  # the bakery is the fourth article
    assert s.chars == sum(len(t) for t in texts[:3])


def test_repeated_article_does_not_use_up_the_three() -> None:
    q = EvalQuestion("5", "?", answer="x", evidence="x", article_id="rates")
    a = answered(quote("heat", "a"), quote("heat", "b"), quote("heat", "c"), quote("rates", "d"))
    assert score(a, q, GROUPS).hit3 == 1.0  # distinct cited articles: heat, rates


def test_declined_scores_zero_and_counts_as_abstained() -> None:
    q = EvalQuestion("6", "?", answer="four percent", evidence="four percent", article_id="rates")
    s = score(DECLINED, q, GROUPS)
    assert (s.hit1, s.hit3, s.ev, s.ans, s.chars, s.abstained) == (0.0, 0.0, 0.0, 0.0, 0, True)


def test_evaluate_averages_supported_questions_and_abstention_on_unanswerable() -> None:
    questions = [
        EvalQuestion("q1", "rate?", answer="four percent", evidence="four percent", article_id="rates"),
        EvalQuestion("q2", "heat?", answer="31 percent", evidence="reservoir 31 percent", article_id="heat"),
        EvalQuestion("q3", "tram?", answer="ten minutes", evidence="every ten minutes", article_id="tram"),
        EvalQuestion("q4", "gone?", answer="x", evidence="x", article_id="bakery", supported=False),
    ]
    unanswerable = [EvalQuestion("u1", "mona lisa?"), EvalQuestion("u2", "berlin wall?")]
    replies = {
        "rate?": answered(quote("rates-copy", "Held at four percent.")),  # 21 chars
        "heat?": answered(quote("tram", "Trams run."), quote("heat", "The reservoir is at 31 percent.")),
        "tram?": DECLINED,
        "gone?": answered(quote("heat", "Heat.")),
        "mona lisa?": DECLINED,
        "berlin wall?": answered(quote("tram", "Trams run.")),
    }
    asked: list[str] = []

    def ask(question: str) -> Answer:
        asked.append(question)
        return replies[question]

    steps: list[int] = []
    report = evaluate(ask, questions, GROUPS, unanswerable, progress=steps.append)

    assert sorted(asked) == sorted(replies)
    assert sum(steps) == 6
    assert report.n == 3  # q4 is unsupported: asked, not scored
    assert report.hit1 == pytest.approx(1 / 3)
    assert report.hit3 == pytest.approx(2 / 3)
    assert report.ev == pytest.approx((1 + 1 + 0) / 3)
    assert report.ans == pytest.approx((1 + 1 + 0) / 3)
    assert report.chars == pytest.approx((21 + 10 + 31 + 0) / 3)
    assert report.abstained == pytest.approx(1 / 3)
    assert report.n_unanswerable == 2
    assert report.abstained_unanswerable == pytest.approx(1 / 2)
    assert report.misses == ["q2", "q3"]
    data = report.as_dict()
    assert data["hit1"] == 0.333
    assert json.loads(json.dumps(data)) == data
    assert "hit@1 0.333" in report.table()


def test_read_questions(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "a", "question": "Why?", "answer": "Because.", "evidence": "It is so.", "article_id": "x"}\n'
        "\n"
        '{"id": 2, "question": "Who?", "supported": false}\n',
        encoding="utf-8",
    )
    assert read_questions(path) == [
        EvalQuestion("a", "Why?", "Because.", "It is so.", "x", True),
        EvalQuestion("2", "Who?", "", "", None, False),
    ]


# ---------------------------------------------------------------------- `qabot eval` end to end (loads a model)
ARTICLES = [
    {
        "id": "ev-rates",
        "title": "Caldera Reserve Bank holds rates",
        "text": "The Caldera Reserve Bank kept its main interest rate at 4.25 percent on Thursday.\n\n"
        "Governor Ilse Marren said inflation was falling more slowly than hoped.",
        "url": "https://news.example.invalid/rates",
        "published": "2025-05-08T09:00:00",
    },
    {
        "id": "ev-heat",
        "title": "Vellmoor rations water in heatwave",
        "text": "Vellmoor limited garden watering to two evenings a week as the heatwave entered its third week.\n\n"
        "The reservoir above the town was at 31 percent of capacity, the water board said.",
        "url": "https://news.example.invalid/heat",
        "published": "2025-07-21T10:00:00",
    },
    {
        "id": "ev-tram",
        "title": "Port Aldwick opens its harbour tram line",
        "text": "The harbour tram line in Port Aldwick opened on Monday after three years of work.\n\n"
        "Trams run every ten minutes between the ferry terminal and the old fish market.",
        "url": "https://news.example.invalid/tram",
        "published": "2025-03-03T08:00:00",
    },
]
QUESTIONS = [
    {
        "id": "e1",
        "question": "At what interest rate was the main rate of the Caldera Reserve Bank kept?",
        "answer": "4.25 percent",
        "evidence": "The bank kept its main interest rate at 4.25 percent.",
        "article_id": "ev-rates",
    },
    {
        "id": "e2",
        "question": "At what capacity was the Vellmoor reservoir during the heatwave?",
        "answer": "31 percent of capacity",
        "evidence": "The reservoir was at 31 percent of capacity.",
        "article_id": "ev-heat",
    },
    {
        "id": "e3",
        "question": "Where do the Port Aldwick harbour trams run?",
        "answer": "between the ferry terminal and the old fish market",
        "evidence": "Trams run between the ferry terminal and the old fish market.",
        "article_id": "ev-tram",
    },
]
UNANSWERABLE = [
    {"id": "u1", "question": "Who painted the Mona Lisa?"},
    {"id": "u2", "question": "When did the Berlin Wall fall?"},
]


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_command_end_to_end(tmp_path: Path) -> None:
    args = [
        "--articles",
        str(write_jsonl(tmp_path / "articles.jsonl", ARTICLES)),
        "--questions",
        str(write_jsonl(tmp_path / "questions.jsonl", QUESTIONS)),
        "--unanswerable",
        str(write_jsonl(tmp_path / "unanswerable.jsonl", UNANSWERABLE)),
        "--json",
    ]
    result = run_qabot("--index", str(tmp_path / "unused"), "eval", *args, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"n", "hit1", "hit3", "ev", "ans", "chars", "abstained", "n_unanswerable"}
    assert {"abstained_unanswerable", "misses"} <= set(data)
    assert data["n"] == 3
    assert data["n_unanswerable"] == 2
    for key in ("hit1", "hit3", "ev", "ans", "abstained", "abstained_unanswerable"):
        assert 0.0 <= data[key] <= 1.0, key
    assert data["chars"] > 0
    assert data["hit3"] == 1.0, data  # three easy questions, in the articles' own words, over three articles
    assert not (tmp_path / "unused").exists(), "eval builds its index in a temporary folder"


REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_eval_suite_prints_one_row_per_set_and_half_and_names_a_missing_set(tmp_path: Path) -> None:
    """`qabot eval --suite` over the sample questions shipped in the repository, plus a set whose files are absent."""
    suite = {
        "sets": [
            {
                "name": "samples",
                "role": "ours",
                "articles": str(REPO / "qabot" / "samples"),
                "questions": [str(REPO / "benchmarks" / "data" / "samples.questions.jsonl")],
                "unanswerable": [str(REPO / "benchmarks" / "data" / "samples.unanswerable.jsonl")],
            },
            {"name": "elsewhere", "articles": str(tmp_path / "nope.jsonl"), "build": "make-it --here"},
        ]
    }
    (tmp_path / "suite.json").write_text(json.dumps(suite), encoding="utf-8")
    result = run_qabot("eval", "--suite", str(tmp_path / "suite.json"), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    halves = {(r["set"], r["split"]): r for r in rows}
    assert set(halves) == {("samples", "tune"), ("samples", "check"), ("elsewhere", "-")}
    tune, check = halves[("samples", "tune")], halves[("samples", "check")]
    assert tune["n"] + check["n"] == 102
    assert tune["n_unanswerable"] + check["n_unanswerable"] == 36
    assert check["hit1"] >= 0.8  # the bundled scorer on questions it was never fitted on
    assert "make-it --here" in halves[("elsewhere", "-")]["missing"]


def test_eval_of_one_missing_set_is_an_error(tmp_path: Path) -> None:
    result = run_qabot("eval", "--articles", "nope.jsonl", "--questions", "nope.jsonl", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("Error: cannot evaluate: missing")
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_readme_shows_an_eval_command_that_needs_nothing_outside_the_clone() -> None:
    from qabot.cli import build_parser
    from qabot.evaluate.suite import read_suite

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text("utf-8")
    commands = re.findall(r"^\$ \.venv/bin/qabot (eval --suite .+)$", readme, re.MULTILINE)
    assert commands, "the README shows how to reproduce a quality row from a fresh clone"
    named: list[str] = []
    for command in commands:
        args = build_parser().parse_args(command.split())
        sets = {s.name: s for s in read_suite(root / args.suite)}
        for name in args.sets.split(","):  # every file of every set it names is part of the repository
            files = [*sets[name].articles, *sets[name].questions, *sets[name].unanswerable]
            assert files, name
            assert all(f.is_relative_to(root) and f.exists() for f in files), (name, files)
            named.append(name)
    shown = re.findall(r"^\| ([\w-]+) \| (?:check|tune) \|", readme, re.MULTILINE)
    assert sorted(shown) == sorted(named)  # the output shown is that of the commands shown
