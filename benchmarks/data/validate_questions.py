"""Stdlib-only check of the sample question sets (see benchmarks/data/README.md)."""

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository
DATA = ROOT / "benchmarks/data"


def bodies():
    out = {}
    for p in sorted((ROOT / "qabot/samples").glob("*.md")):
        text = p.read_text("utf-8")
        _, fm, rest = text.split("---\n", 2)
        aid = re.search(r"^id:\s*(\S+)", fm, re.M).group(1)
        lines = rest.strip().split("\n")
        assert lines[0].startswith("# "), p
        out[aid] = "\n".join(lines[1:]).strip()
    return out


def read(name):
    return [json.loads(line) for line in (DATA / name).read_text("utf-8").splitlines() if line.strip()]


def main():
    arts = bodies()
    errors = []
    ids = Counter()
    for name in (
        "samples.questions.jsonl",
        "samples.unanswerable.jsonl",
        "samples2.questions.jsonl",
        "samples2.unanswerable.jsonl",
        "multilingual.questions.jsonl",
    ):
        rows = read(name)
        splits = Counter(r["split"] for r in rows)
        ids.update(r["id"] for r in rows)
        print(f"\n{name}: {len(rows)} rows, splits {dict(splits)}")
        if abs(splits["tune"] - splits["check"]) > max(2, len(rows) // 10) or set(splits) != {"tune", "check"}:
            errors.append(f"{name}: unbalanced splits {dict(splits)}")
        if name.endswith(".unanswerable.jsonl"):
            by = Counter((r["kind"], r["split"]) for r in rows)
            for kind in sorted({r["kind"] for r in rows}):
                t, c = by[(kind, "tune")], by[(kind, "check")]
                print(f"  {kind:10s} {t + c:3d}  tune {t}  check {c}")
            continue
        group = "lang" if name.startswith("multilingual") else "article_id"
        by = Counter((r[group], r["split"]) for r in rows)
        for g in sorted({r[group] for r in rows}):
            t, c = by[(g, "tune")], by[(g, "check")]
            print(f"  {g:42s} {t + c:3d}  tune {t}  check {c}")
        if group == "lang":
            per_art = Counter(r["article_id"] for r in rows)
            print(f"  articles covered: {len(per_art)} of {len(arts)}")
        for r in rows:
            body = arts.get(r["article_id"])
            if body is None:
                errors.append(f"{r['id']}: unknown article {r['article_id']}")
                continue
            ev, ans = r["evidence"], r["answer"]
            if ev not in body:
                errors.append(f"{r['id']}: evidence not in article body")
            elif body.count(ev) != 1:
                errors.append(f"{r['id']}: evidence occurs {body.count(ev)} times")
            if ans not in ev:
                errors.append(f"{r['id']}: answer {ans!r} not in evidence")
            if not re.search(r"[.?!][\"”]?$", ev):
                errors.append(f"{r['id']}: evidence does not end a sentence")
            i = body.find(ev)
            if i > 0 and not body[i - 1].isspace():
                errors.append(f"{r['id']}: evidence does not start a sentence")
            if r.get("supported") is not True:
                errors.append(f"{r['id']}: supported must be true")
    dup = [i for i, c in ids.items() if c > 1]
    if dup:
        errors.append(f"duplicate ids: {dup}")
    print(f"\nids: {sum(ids.values())} total, {len(ids)} unique")
    errors += conversations(arts)
    for e in errors:
        print("ERROR", e)
    print("OK" if not errors else f"{len(errors)} errors")
    return 1 if errors else 0


NEWS_QA = ROOT.parent / "shared/eval/news-qa/articles.jsonl"  # beside the repository, never committed


def conversations(samples):
    """conversations.jsonl: 2-3 turns, a split each, every turn's answer in its evidence and its evidence in the
    article, once (news-qa turns are checked where that set is present)."""
    errors = []
    news = {}
    if NEWS_QA.exists():
        news = {a["id"]: a["text"] for a in map(json.loads, NEWS_QA.read_text("utf-8").splitlines()) if a}
    rows = read("conversations.jsonl")
    by = Counter((r["set"], r["split"]) for r in rows)
    print(f"\nconversations.jsonl: {len(rows)} conversations, {dict(by)}")
    kinds = Counter(t["kind"] for r in rows for t in r["turns"])
    print(f"  turns: {dict(kinds)}" + ("" if news else " (news-qa articles absent: their turns not checked)"))
    for r in rows:
        if not 2 <= len(r["turns"]) <= 3 or r["split"] not in ("tune", "check"):
            errors.append(f"{r['id']}: needs 2-3 turns and a split")
        if r["turns"][0]["kind"] != "first" or any(t["kind"] not in ("followup", "standalone") for t in r["turns"][1:]):
            errors.append(f"{r['id']}: a first turn, then follow-ups or standalone turns")
        for t in r["turns"]:
            body = (samples if r["set"] == "samples" else news).get(t["article_id"])
            if body is None:
                if r["set"] == "samples" or news:
                    errors.append(f"{r['id']}: unknown article {t['article_id']}")
                continue
            if t["answer"] not in t["evidence"]:
                errors.append(f"{r['id']}: answer {t['answer']!r} not in its evidence")
            if body.count(t["evidence"]) != 1:
                errors.append(f"{r['id']}: evidence occurs {body.count(t['evidence'])} times in {t['article_id']}")
    if abs(by[("samples", "tune")] - by[("samples", "check")]) > 1 or by[("samples", "tune")] < 15:
        errors.append(f"conversations: unbalanced or small samples halves {dict(by)}")
    if sum(n for (s, _), n in by.items() if s == "news-qa") < 30:
        errors.append("conversations: fewer than 30 over news-qa")
    return errors


if __name__ == "__main__":
    sys.exit(main())
