"""One exception tree for parkland.

`InputError` is what a user sees when an input cannot be used at all: a short message (Chinese by
default, English with ``--lang en``) naming the file, the row a person sees in it, the column, and what
to do. The CLI prints it and exits 2, never a traceback.
"""

from __future__ import annotations

from pathlib import Path


class ParklandError(Exception):
    """Base class of every error parkland raises on purpose."""


class InputError(ParklandError):
    """An input that cannot be used: names file, row and column, in Chinese and English.

    ``row`` is the row a person sees in the file (Excel row number, CSV line), not ``source_row``.
    """

    def __init__(
        self,
        zh: str,
        en: str | None = None,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint_zh: str | None = None,
        hint_en: str | None = None,
    ) -> None:
        self.zh = zh
        self.en = en or zh
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.hint_zh = hint_zh
        self.hint_en = hint_en
        super().__init__(self.message("zh"))

    def where(self, lang: str = "zh") -> str:
        """'文件 X 第 N 行 列「C」' / 'file X, row N, column "C"' — only the parts that are known."""
        parts: list[str] = []
        if lang == "en":
            if self.file:
                parts.append(f"file {self.file}")
            if self.row is not None:
                parts.append(f"row {self.row}")
            if self.column:
                parts.append(f'column "{self.column}"')
            return ", ".join(parts)
        if self.file:
            parts.append(f"文件 {self.file}")
        if self.row is not None:
            parts.append(f"第 {self.row} 行")
        if self.column:
            parts.append(f"列「{self.column}」")
        return " ".join(parts)

    def message(self, lang: str = "zh") -> str:
        """At most three lines: where, what, what to do."""
        where = self.where(lang)
        what = self.en if lang == "en" else self.zh
        hint = self.hint_en if lang == "en" else self.hint_zh
        first = f"{where}: {what}" if where else what
        if lang != "en" and where:
            first = f"{where}：{what}"
        return first if not hint else f"{first}\n{hint}"


class PolicyError(InputError):
    """A policy file that cannot be used: names the key and what is allowed."""
