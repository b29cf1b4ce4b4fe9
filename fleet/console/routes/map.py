"""服务地图: terminals with their hours and services; Leaflet on a configured tile server, a
plain coordinate plot (ECharts) when there is none."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fleet.clock import now_ms
from fleet.console import backend
from fleet.console.i18n import translate
from fleet.console.web import console_state, lang_of, principal, render, require_user
from fleet.console.words import SERVICE_LABELS, STATE_LABELS, region_label
from fleet.services import terminals as terminal_service

router = APIRouter()


def _features(request: Request, service: str) -> list[dict]:
    session = require_user(request)
    lang = lang_of(request)
    with backend.database(request).session() as s:
        fc = terminal_service.service_map(s, principal(session), now_ms(),
                                          backend.rules(request))
    out = []
    for feature in fc["features"]:
        p = feature["properties"]
        if service and service not in p["services"]:
            continue
        lon, lat = feature["geometry"]["coordinates"]
        hours = "；".join(f"{h['days']} {h['open']}–{h['close']}" for h in p["opening_hours"])
        out.append({"id": p["id"], "name": p["name"], "site": p["site"], "lon": lon, "lat": lat,
                    "region": region_label(p["region_code"]),
                    "hours": hours or translate("24小时", lang),
                    "services": [translate(SERVICE_LABELS.get(x, x), lang)
                                 for x in p["services"]],
                    "status": p["status"],
                    "status_label": translate(STATE_LABELS.get(p["status"], p["status"]), lang)})
    return out


@router.get("/map", response_class=HTMLResponse)
def map_page(request: Request) -> Response:
    session = require_user(request)
    service = request.query_params.get("service", "")
    service = service if service in SERVICE_LABELS else ""
    features = _features(request, service)
    state = console_state(request)
    return render(request, "map.html", title="服务地图", active="map", session=session,
                  services=SERVICE_LABELS, service=service, count=len(features),
                  features_json=json.dumps(features, ensure_ascii=False).replace("</", "<\\/"),
                  tile_url=state.tile_url, tile_attribution=state.tile_attribution)


@router.get("/map/terminals.json")
def map_json(request: Request) -> Response:
    require_user(request)
    return Response(json.dumps(_features(request, request.query_params.get("service", "")),
                               ensure_ascii=False), media_type="application/json")
