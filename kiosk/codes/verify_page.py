"""The platform's public pages behind printed QR codes (reference server): a proof's
verification (``/verify/{code}``) and an application's progress (``/progress/{number}``).

Plain server-rendered HTML, no script, no external asset; only masked personal values.
"""

from __future__ import annotations

from html import escape

from kiosk.codes.progress import Application
from kiosk.codes.proofdocs import VerifiedProof

_STYLE = ("body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei',sans-serif;margin:0;"
          "background:#f4f6fa;color:#1b2430}main{max-width:640px;margin:0 auto;padding:24px}"
          "h1{font-size:28px;margin:0 0 16px}.ok{color:#0b6b3a}.bad{color:#b3261e}"
          "table{border-collapse:collapse;width:100%;background:#fff}"
          "td,th{border:1px solid #c9d1dc;padding:10px;text-align:left;font-size:18px}"
          "th{white-space:nowrap;width:5em}td{word-break:break-all}"
          ".note{color:#4a5565;font-size:16px;margin-top:16px}")


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
            f"<body><main>{body}</main></body></html>")


def verify_page(proof: VerifiedProof | None) -> str:
    if proof is None:
        return _page("证明验证", "<h1 class='bad'>验证失败：此验证码无效</h1><p>验证码不存在或已被"
                     "改动。请核对纸质证明上的二维码，或到窗口咨询。</p>")
    rows = [("证明名称", proof.title), ("证明编号", proof.document_no),
            ("出具日期", proof.issued_on), ("持有人", proof.masked_holder),
            ("证件号码", proof.masked_id), ("内容摘要", proof.digest)]
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    sample = ("<p class='note bad'>注意：这是演示样例数据，不作为办事依据。</p>"
              if proof.sample else "")
    return _page("证明验证", f"<h1 class='ok'>验证通过：此证明由平台出具</h1><table>{table}</table>"
                 f"{sample}<p class='note'>请核对纸质证明上的编号与日期是否与本页一致。</p>")


def progress_page(app: Application | None) -> str:
    if app is None:
        return _page("办件进度", "<h1 class='bad'>没有找到这个办件</h1>")
    steps = "".join(f"<tr><td>{escape(s.name)}</td><td>{escape(s.done_on or '进行中/待办')}</td>"
                    f"</tr>" for s in app.steps)
    sample = "<p class='note bad'>演示样例数据</p>" if app.sample else ""
    return _page("办件进度", f"<h1>{escape(app.item)}</h1><p>办件编号 "
                 f"{escape(app.handling_number)} · 当前环节：{escape(app.current_step)}</p>"
                 f"<table><tr><th>环节</th><th>完成日期</th></tr>{steps}</table>"
                 f"<p class='note'>承诺办结：{escape(app.promised_on)} · 领取："
                 f"{escape(app.pickup_place)}</p>{sample}")
