"""The daily briefing as a printable A4 page: figures by shift, a chart of passages per
hour, refusals by reason, alerts and node availability, in Vietnamese first.

The font (DejaVu Sans, which has every Vietnamese diacritic) ships with the pass cards in
hub/passes/fonts/ and is embedded, so the page prints the same on a ward LAN.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from hub.reports import labels
from hub.reports.figures import DailyFigures

FONTS = Path(__file__).resolve().parent.parent / "passes" / "fonts"
GREEN = (46, 139, 87)
RED = (200, 55, 45)
GREY = (120, 120, 120)
# The chart's box on the page (mm): tests look for its bars there.
CHART_X, CHART_Y, CHART_W, CHART_H = 25.0, 92.0, 170.0, 60.0


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


class _Page(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font("dejavu", "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font("dejavu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font("dejavu", "B", 11)
        self.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font("dejavu", "", 9)

    def line_of(self, text: str, h: float = 5) -> None:
        self.cell(0, h, text, new_x="LMARGIN", new_y="NEXT")


def to_pdf(f: DailyFigures) -> bytes:
    pdf = _Page()
    pdf.set_title(f"{labels.TITLE} {f.ward_name} {f.day.isoformat()}")
    pdf.add_page()
    pdf.set_font("dejavu", "B", 15)
    pdf.cell(0, 9, labels.TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "B", 12)
    pdf.cell(0, 7, f.ward_name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 10)
    offset = f"UTC{f.utc_offset_h:+d}"
    pdf.line_of(f"Ngày / date: {f.day:%d/%m/%Y} (giờ địa phương / local time, {offset})", 6)
    _shift_table(pdf, f)
    _chart(pdf, f)
    _reasons(pdf, f)
    _alerts(pdf, f)
    _nodes(pdf, f)
    return bytes(pdf.output())


def _shift_table(pdf: _Page, f: DailyFigures) -> None:
    pdf.heading("Lượt qua theo ca / passages by shift")
    widths = (50, 30, 30, 30, 30)
    head = ("Ca / shift", "Cho qua", "Từ chối", "Sốt", "Mở tay")
    pdf.set_font("dejavu", "B", 9)
    for w, text in zip(widths, head, strict=True):
        pdf.cell(w, 6, text, border=1, align="C")
    pdf.ln()
    pdf.set_font("dejavu", "", 9)
    for t in [*f.shifts, f.day_total]:
        values = (
            f"{t.name} ({t.start_h:02d}-{t.end_h:02d}h)",
            str(t.admitted),
            str(t.refused),
            str(t.fevers),
            str(t.overrides),
        )
        for w, text in zip(widths, values, strict=True):
            pdf.cell(w, 6, text, border=1, align="L" if w == widths[0] else "R")
        pdf.ln()


def _chart(pdf: _Page, f: DailyFigures) -> None:
    pdf.set_y(CHART_Y - 9)
    pdf.heading("Lượt qua theo giờ / passages per hour")
    top = max((a + r for _, a, r in f.hourly), default=0) or 1
    pdf.set_draw_color(*GREY)
    pdf.line(CHART_X, CHART_Y + CHART_H, CHART_X + CHART_W, CHART_Y + CHART_H)
    pdf.line(CHART_X, CHART_Y, CHART_X, CHART_Y + CHART_H)
    pdf.set_font("dejavu", "", 7)
    pdf.set_xy(CHART_X - 12, CHART_Y - 2)
    pdf.cell(11, 4, str(top), align="R")
    pdf.set_xy(CHART_X - 12, CHART_Y + CHART_H - 2)
    pdf.cell(11, 4, "0", align="R")
    slot = CHART_W / 24
    for hour, admitted, refused in f.hourly:
        x = CHART_X + hour * slot + slot * 0.15
        base = CHART_Y + CHART_H
        for value, colour in ((admitted, GREEN), (refused, RED)):
            if value:
                height = CHART_H * value / top
                pdf.set_fill_color(*colour)
                pdf.rect(x, base - height, slot * 0.7, height, style="F")
                base -= height
        if hour % 3 == 0:
            pdf.set_xy(CHART_X + hour * slot, CHART_Y + CHART_H + 1)
            pdf.cell(slot, 4, f"{hour}h", align="C")
    legend_y = CHART_Y + CHART_H + 6
    for i, (text, colour) in enumerate((("Cho qua", GREEN), ("Từ chối", RED))):
        x = CHART_X + i * 35
        pdf.set_fill_color(*colour)
        pdf.rect(x, legend_y + 1, 4, 3, style="F")
        pdf.set_xy(x + 5, legend_y)
        pdf.cell(28, 5, text)
    pdf.set_xy(pdf.l_margin, legend_y + 7)


def _reasons(pdf: _Page, f: DailyFigures) -> None:
    pdf.heading("Lý do từ chối (cả ngày) / refusals by reason")
    reasons = f.day_total.refused_by_reason.most_common()
    if not reasons:
        pdf.line_of("Không có / none")
    for code, n in reasons:
        pdf.line_of(f"{labels.reason(code)}: {n}")
    unmanned = labels.NOT_RECORDED if f.unmanned_hours is None else f"{f.unmanned_hours:.1f}"
    pdf.line_of(f"{labels.METRICS['unmanned_hours']}: {unmanned}")


def _alerts(pdf: _Page, f: DailyFigures) -> None:
    a = f.alerts
    pdf.heading("Cảnh báo / alerts")
    pdf.line_of(f"{labels.METRICS['alerts_raised']}: {a.raised}")
    pdf.line_of(f"{labels.METRICS['alerts_acknowledged']}: {a.acknowledged}")
    pdf.line_of(f"{labels.METRICS['alerts_open_at_end']}: {a.open_at_end}")
    pdf.line_of(f"{labels.METRICS['ack_mean_s']}: {_seconds(a.ack_mean_s)}")
    pdf.line_of(f"{labels.METRICS['ack_max_s']}: {_seconds(a.ack_max_s)}")


def _nodes(pdf: _Page, f: DailyFigures) -> None:
    pdf.heading(labels.METRICS["node_availability"])
    if not f.nodes:
        pdf.line_of("Không có nút nào báo cáo / no node reported")
        return
    column = (pdf.w - pdf.l_margin - pdf.r_margin) / 3
    for i, (node, share) in enumerate(f.nodes.items()):
        pdf.cell(column, 5, f"{node}: {share * 100:.0f}%")
        if i % 3 == 2:
            pdf.ln()
    pdf.ln()
