"""The services offered on the home screen, as data (the screens render them as tiles).

``needs_identity``: the flow starts with the identify step (进度查询 identifies on its own
screen, which also takes a handling number). ``rated``: finishing it leads to the evaluation
screen (好差评 after every completed item); a flow's screen goes home instead when nothing was
done. Every flow has its own screen (``screens/<flow>.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowSpec:
    id: str  # service id in config `services.enabled`
    title: str  # Chinese msgid, translated by kiosk.i18n
    subtitle: str
    needs_identity: bool
    rated: bool
    icon: str  # icon name (screens/assets/icons/icons.json), drawn on the tile and header
    description: str = ""  # what the flow does, in one sentence


FLOWS: tuple[FlowSpec, ...] = (
    FlowSpec("queue", "取号", "排队取号 · 预约签到", False, True, "queue",
             "选择业务类别后即可取号，号票将自动打印。"),
    FlowSpec("guide", "办事指南", "查事项 · 看材料", False, False, "guide",
             "按事项名称、拼音首字母或办事场景查找办事指南。"),
    FlowSpec("code", "亮码", "居民码 · 企业码", True, True, "code",
             "身份核验后，在此展示您的居民码或企业码。"),
    FlowSpec("proof", "证明打印", "参保证明 · 权益记录", True, True, "proof",
             "身份核验后，可打印参保缴费证明、个人权益记录等。"),
    FlowSpec("progress", "进度查询", "办件进度", False, True, "progress",
             "刷身份证、社保卡、居民码，或输入办件编号，查询办件进度。"),
    FlowSpec("rating", "评价", "好差评 · 补充评价", False, True, "rating",
             "对已办结的事项进行评价或补充评价。"),
    FlowSpec("help", "帮办", "呼叫工作人员", False, False, "help",
             "呼叫大厅工作人员到终端旁协助您。"),
)

FLOW_BY_ID = {flow.id: flow for flow in FLOWS}


def enabled_flows(service_ids: list[str] | tuple[str, ...]) -> list[FlowSpec]:
    """The flows of this terminal, in the fixed home-screen order."""
    wanted = set(service_ids)
    return [flow for flow in FLOWS if flow.id in wanted]
