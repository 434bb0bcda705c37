"""The printable pass card: ID-1 size (85.6 x 54 mm), as PDF (fpdf2) and PNG (Pillow).

One layout, two renderers: ``layout()`` places every text run and the QR in millimetres,
measuring text with the shipped DejaVu Sans (Vietnamese with its diacritics), shrinking or
wrapping a line until it fits and refusing a card whose text would still run off it. The
PDF and the PNG draw that same layout, so what fits in one fits in the other.

The QR is drawn as one filled path (the dark runs of each row as rectangles of a single
path): a renderer antialiases the union once, so no hairline seams appear between modules.
fpdf2 and Pillow come with the hub extra.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass
from datetime import timedelta, timezone
from importlib.resources import files
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import PathPaintRule
from PIL import Image, ImageDraw, ImageFont

from checkpoint.passes.model import Pass
from checkpoint.passes.qr import make_qr

CARD_W_MM = 85.6
CARD_H_MM = 54.0
MARGIN_MM = 3.0
PT_MM = 25.4 / 72  # one typographic point in millimetres
LINE = 1.22  # line height as a multiple of the font size
FONT_DIR = Path(str(files("hub.passes") / "fonts"))
FONTS = {False: FONT_DIR / "DejaVuSans.ttf", True: FONT_DIR / "DejaVuSans-Bold.ttf"}

CATEGORY_TITLES = {
    "resident": ("Cư dân", "Resident"),
    "temporary_resident": ("Tạm trú", "Temporary resident"),
    "essential_worker": ("Lao động thiết yếu", "Essential worker"),
    "medical": ("Y tế", "Medical staff"),
    "delivery": ("Giao hàng", "Delivery"),
    "official": ("Công vụ", "Official"),
    "visitor": ("Khách", "Visitor"),
}


class CardError(ValueError):
    """The card's text cannot be made to fit (a layout bug or an absurd ward name)."""


@dataclass(frozen=True, slots=True)
class TextRun:
    x: float  # left, mm
    baseline: float  # mm from the top
    size_pt: float
    bold: bool
    text: str
    width: float  # mm, measured with the embedded font


@dataclass(frozen=True, slots=True)
class CardLayout:
    runs: tuple[TextRun, ...]
    qr_x: float
    qr_y: float
    qr_size: float
    matrix: tuple[tuple[bool, ...], ...]  # QR modules with a 4-module quiet zone


def _pdf() -> FPDF:
    pdf = FPDF(unit="mm", format=(CARD_W_MM, CARD_H_MM))
    pdf.set_margins(0, 0, 0)
    pdf.set_auto_page_break(auto=False)
    pdf.add_font("DejaVu", "", str(FONTS[False]))
    pdf.add_font("DejaVu", "B", str(FONTS[True]))
    return pdf


class _Column:
    """Places lines top-down in a box, each at the largest size (down to ``smallest``)
    at which it fits in ``max_lines`` lines of the box's width."""

    def __init__(self, pdf: FPDF, x: float, top: float, width: float, bottom: float) -> None:
        self.pdf, self.x, self.y, self.width, self.bottom = pdf, x, top, width, bottom
        self.runs: list[TextRun] = []

    def _width(self, text: str, size: float, bold: bool) -> float:
        self.pdf.set_font("DejaVu", "B" if bold else "", size)
        return float(self.pdf.get_string_width(text))

    def _wrap(self, text: str, size: float, bold: bool) -> list[str]:
        lines: list[str] = []
        for word in text.split():
            if lines and self._width(f"{lines[-1]} {word}", size, bold) <= self.width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines

    def add(
        self, text: str, size: float, *, bold: bool = False, smallest: float = 5.0,
        max_lines: int = 1, gap: float = 0.0,
    ) -> None:  # fmt: skip
        text = unicodedata.normalize("NFC", " ".join(text.split()))
        if not text:
            return
        candidate = size
        while True:
            lines = self._wrap(text, candidate, bold)
            fits = all(self._width(line, candidate, bold) <= self.width for line in lines)
            if fits and len(lines) <= max_lines:
                break
            candidate -= 0.25
            if candidate < smallest:
                raise CardError(f"{text!r} does not fit {self.width:.1f} mm at {smallest} pt")
        self.y += gap
        for line in lines:
            self.y += candidate * PT_MM * LINE
            if self.y > self.bottom:
                raise CardError(f"the card's text runs past its bottom at {line!r}")
            width = self._width(line, candidate, bold)
            self.runs.append(TextRun(self.x, self.y, candidate, bold, line, width))


def layout(
    pass_: Pass, text: str, *, ward_name: str = "", utc_offset_min: int = 7 * 60
) -> CardLayout:
    """Place everything; CardError if some text cannot fit (never a clipped card).

    Times are the ward's local time (default UTC+7), which the holder and the volunteer read.
    """
    pdf = _pdf()
    zone = timezone(timedelta(minutes=utc_offset_min))
    hours, minutes = divmod(abs(utc_offset_min), 60)
    utc = f"UTC{'+' if utc_offset_min >= 0 else '-'}{hours}" + (
        f":{minutes:02d}" if minutes else ""
    )
    inner = CARD_W_MM - 2 * MARGIN_MM
    header = _Column(pdf, MARGIN_MM, MARGIN_MM - 0.8, inner, CARD_H_MM / 4)
    header.add(ward_name or f"Phường / Ward {pass_.ward_id}", 8.5, bold=True, max_lines=2)

    qr = make_qr(text)
    matrix = tuple(tuple(bool(m) for m in row) for row in qr.matrix_iter(scale=1, border=4))
    qr_y = header.y + 1.2
    qr_size = min(CARD_H_MM - MARGIN_MM + 1.5 - qr_y, 41.0)  # the quiet zone may reach the margin
    qr_x = MARGIN_MM - 1.5

    right = qr_x + qr_size + 0.5
    column = _Column(pdf, right, qr_y + 0.5, CARD_W_MM - MARGIN_MM - right, CARD_H_MM - MARGIN_MM)
    vi, en = CATEGORY_TITLES.get(pass_.category.value, (pass_.category.value, ""))
    column.add(vi, 10, bold=True, smallest=6)
    column.add(en, 6.5)
    if pass_.zone_id:
        column.add(f"Khu vực / Zone: {pass_.zone_id}", 6, gap=0.8, max_lines=2)
    if pass_.label:
        column.add(pass_.label, 7, bold=True, gap=0.8, max_lines=2)
    if pass_.checkpoints:
        listed = ", ".join(pass_.checkpoints)
        try:
            column.add(f"Chốt / At: {listed}", 6, gap=0.8, max_lines=2)
        except CardError:
            column.add(f"Chốt / At: {len(pass_.checkpoints)} chốt / checkpoints", 6, gap=0.8)
    column.add(f"Từ / From: {pass_.valid_from.astimezone(zone):%Y-%m-%d %H:%M}", 6.5, gap=1.2)
    column.add(f"Đến / Until: {pass_.valid_until.astimezone(zone):%Y-%m-%d %H:%M}", 6.5)
    column.add(f"({utc})", 5.5)
    column.add(f"Mã / Pass: {pass_.pass_id}", 5.5, gap=1.2)
    column.add(f"Khóa / Key: {pass_.key_id}", 5.5)
    return CardLayout(tuple(header.runs + column.runs), qr_x, qr_y, qr_size, matrix)


def _dark_runs(matrix: tuple[tuple[bool, ...], ...]) -> list[tuple[int, int, int]]:
    """(row, first column, length) of every horizontal run of dark modules."""
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                runs.append((y, start, x - start))
            else:
                x += 1
    return runs


def pdf(card: CardLayout) -> bytes:
    doc = _pdf()
    doc.set_title("Pass card")
    doc.add_page()
    module = card.qr_size / len(card.matrix)
    with doc.new_path(paint_rule=PathPaintRule.FILL_NONZERO) as path:
        path.style.fill_color = "#000000"
        for y, x, length in _dark_runs(card.matrix):
            path.rectangle(card.qr_x + x * module, card.qr_y + y * module, length * module, module)
    doc.set_text_color(0, 0, 0)
    for run in card.runs:
        doc.set_font("DejaVu", "B" if run.bold else "", run.size_pt)
        doc.text(run.x, run.baseline, run.text)
    return bytes(doc.output())


def png(card: CardLayout, *, dpi: int = 300) -> bytes:
    """The same layout rasterised: for printing at ``dpi`` or showing on a screen."""
    px = dpi / 25.4  # pixels per millimetre
    image = Image.new("L", (round(CARD_W_MM * px), round(CARD_H_MM * px)), 255)
    draw = ImageDraw.Draw(image)
    module = card.qr_size / len(card.matrix)

    def at(mm: float) -> int:
        return round(mm * px)  # the same rounding for shared edges: no gaps between runs

    for y, x, length in _dark_runs(card.matrix):
        left, top = card.qr_x + x * module, card.qr_y + y * module
        draw.rectangle(
            (at(left), at(top), at(left + length * module) - 1, at(top + module) - 1), fill=0
        )
    for run in card.runs:
        font = ImageFont.truetype(str(FONTS[run.bold]), size=run.size_pt * PT_MM * px)
        draw.text((run.x * px, run.baseline * px), run.text, font=font, fill=0, anchor="ls")
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()
