"""好差评: satisfaction and active evaluation rate over time, breakdowns, bad-review reasons,
CSV and XLSX export of the figures (aggregates only: no rating, no person)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from fleet.auth import Invalid, Principal
from fleet.clock import local_date
from fleet.console import backend
from fleet.console.i18n import translate
from fleet.console.web import ConsoleError, lang_of, principal, render, require_user
from fleet.console.words import BAD_LEVELS, LEVEL_LABELS, LEVELS, region_label
from fleet.models import Rating
from fleet.services import ratings as rating_service

router = APIRouter()


def _period(request: Request) -> tuple[date, date, dict[str, str]]:
    q = request.query_params
    today = local_date(backend.services(request).now())
    try:
        to = date.fromisoformat(q["to"]) if q.get("to") else today
        start = date.fromisoformat(q["from"]) if q.get("from") else to - timedelta(days=29)
    except ValueError as exc:
        raise ConsoleError(422, "from / to: dates as YYYY-MM-DD, e.g. 2026-12-01") from exc
    if start > to:
        raise ConsoleError(422, "from is after to: swap them")
    return start, to, {"from": start.isoformat(), "to": to.isoformat(),
                       "region": q.get("region", "").strip(), "site": q.get("site", "")}


def bad_reasons(session: Any, who: Principal, start: date, to: date, region: str,
                site: str) -> list[tuple[str, int]]:
    """The reasons chosen for 不满意 / 非常不满意, most frequent first (read from the ratings:
    the service layer's roll-ups do not keep reasons)."""
    from fleet.models import Terminal

    stmt = select(Rating.reasons).where(who.scope_column(Rating.region_code),
                                        Rating.level.in_(BAD_LEVELS), Rating.day >= start,
                                        Rating.day <= to)
    if region:
        stmt = stmt.where(Rating.region_code.startswith(region, autoescape=True))
    if site:
        stmt = stmt.where(Rating.terminal.in_(select(Terminal.id).where(Terminal.site == site)))
    counts: Counter[str] = Counter()
    for (reasons,) in session.execute(stmt):
        counts.update(str(r) for r in (reasons or []))
    return counts.most_common(20)


def figures(request: Request, session_: Any) -> dict[str, Any]:
    start, to, f = _period(request)
    who = principal(session_)
    with backend.database(request).session() as s:
        try:
            common = {"region": f["region"], "site": f["site"], "date_from": start,
                      "date_to": to}
            total = rating_service.summary(s, who, **common)
            by_day = rating_service.summary(s, who, group_by="day", **common)
            groups = {g: rating_service.summary(s, who, group_by=g, **common)["groups"]
                      for g in ("region", "site", "item")}
        except Invalid as exc:
            raise ConsoleError(422, str(exc)) from exc
        reasons = bad_reasons(s, who, start, to, f["region"], f["site"])
        items = dict(s.execute(select(Rating.item_code, Rating.item_name)
                               .where(who.scope_column(Rating.region_code))
                               .group_by(Rating.item_code, Rating.item_name)).all())
    for g in groups["region"]:
        g["label"] = region_label(g["key"])
    for g in groups["site"]:
        g["label"] = g["key"] or "—"
    groups["item"] = [g for g in groups["item"] if g["key"] or g["rated"]]  # sessions have no item
    for g in groups["item"]:
        g["label"] = f"{items.get(g['key']) or ''} {g['key']}".strip()
    for key in ("site", "item"):  # the ones that need attention first
        groups[key].sort(key=lambda g: (-(g["counts"]["dissatisfied"]
                                          + g["counts"]["very_dissatisfied"]), -g["rated"]))
    return {"f": f, "total": total, "by_day": by_day.get("groups", []), "groups": groups,
            "reasons": reasons}


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


@router.get("/ratings", response_class=HTMLResponse)
def ratings_page(request: Request) -> Response:
    session = require_user(request)
    data = figures(request, session)
    series = {"days": [g["key"] for g in data["by_day"]],
              "satisfaction": [g["satisfaction_rate"] for g in data["by_day"]],
              "active": [g["active_evaluation_rate"] for g in data["by_day"]],
              "bad": [g["bad_rate"] for g in data["by_day"]]}
    from urllib.parse import urlencode

    return render(request, "ratings.html", title="好差评", active="ratings", session=session,
                  top=20, levels=LEVELS, level_label=lambda lv: LEVEL_LABELS.get(lv, lv), pct=pct,
                  series_json=json.dumps(series).replace("</", "<\\/"),
                  levels_json=json.dumps([
                      {"name": translate(LEVEL_LABELS[lv], lang_of(request)),
                       "value": data["total"]["counts"][lv]} for lv in LEVELS],
                      ensure_ascii=False),
                  query=urlencode(data["f"]), **data)


def _rows(data: dict[str, Any], lang: str) -> list[list[Any]]:
    def t(x: str) -> str:
        return translate(x, lang)

    head = [t("分组"), t("名称"), *[t(LEVEL_LABELS[lv]) for lv in LEVELS], t("已评价"),
            t("满意率"), t("差评率"), t("完成办件"), t("主动评价率")]
    rows: list[list[Any]] = [head]

    def line(group: str, label: str, g: dict[str, Any]) -> list[Any]:
        return [group, label, *[g["counts"][lv] for lv in LEVELS], g["rated"],
                g["satisfaction_rate"], g["bad_rate"], g["completed_sessions"],
                g["active_evaluation_rate"]]

    rows.append(line(t("合计"), f"{data['f']['from']}–{data['f']['to']}", data["total"]))
    for key, name in (("region", "地区"), ("site", "网点"), ("item", "事项")):
        for g in data["groups"][key]:
            rows.append(line(t(name), g["label"], g))
    for g in data["by_day"]:
        rows.append(line(t("日期"), g["key"], g))
    rows.append([])
    rows.append([t("差评原因"), t("次数")])
    rows.extend([[reason, n] for reason, n in data["reasons"]])
    return rows


@router.get("/ratings/export.csv")
def export_csv(request: Request) -> Response:
    session = require_user(request)
    data = figures(request, session)
    out = io.StringIO()
    csv.writer(out).writerows(_rows(data, lang_of(request)))
    name = f"ratings-{data['f']['from']}-{data['f']['to']}.csv"
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/ratings/export.xlsx")
def export_xlsx(request: Request) -> Response:
    from openpyxl import Workbook

    session = require_user(request)
    data = figures(request, session)
    book = Workbook()
    sheet = book.active
    sheet.title = translate("好差评统计", lang_of(request))
    for row in _rows(data, lang_of(request)):
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    name = f"ratings-{data['f']['from']}-{data['f']['to']}.xlsx"
    return Response(out.getvalue(), headers={"Content-Disposition":
                                             f'attachment; filename="{name}"'},
                    media_type="application/vnd.openxmlformats-officedocument."
                               "spreadsheetml.sheet")
