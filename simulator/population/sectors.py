"""Sector names in firm tables: matched by name, Chinese label, alias or a mapping file.

A firm table names its sectors as the people who keep it do: 机械, 纺织业,
"machinery", 计算机、通信和其他电子设备制造业. :class:`SectorMatcher` finds
the scenario sector each name means, in this order:

1. a user's mapping file (:func:`read_sector_map`: ``.csv`` with columns
   ``name,sector`` or ``.yaml`` ``name: sector``), which wins over the rest;
2. the sector's name (``machinery``) or its ``label_zh`` (通用及专用设备制造);
3. an alias in :data:`SECTOR_ALIASES` (common Chinese and English names, the
   national industry classification's, GB/T 4754-2017) of a sector the
   scenario has.

Names are compared without spaces, case or the difference between full- and
half-width brackets. A name none of these gives is an error naming the file,
line and column, listing the scenario's sectors and the nearest names.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path

from simulator.scenario import Scenario, ScenarioError

__all__ = ["SECTOR_ALIASES", "SectorMatcher", "read_sector_map"]

#: Sector name (as in the shipped scenarios) -> common names a firm table uses for it.
SECTOR_ALIASES: dict[str, tuple[str, ...]] = {
    "textiles": ("纺织", "纺织业", "纺织服装", "纺织服装、服饰业", "化纤", "化学纤维制造业",
                 "textile", "textiles and apparel"),
    "printing_dyeing": ("印染", "印染业", "印染精加工", "纺织品印染", "dyeing",
                        "printing and dyeing"),
    "chemicals": ("化工", "化学", "化学原料和化学制品制造业", "化学原料及化学制品制造业",
                  "医药化工", "chemical", "chemical industry"),
    "papermaking": ("造纸", "造纸业", "造纸和纸制品业", "造纸及纸制品业", "paper",
                    "pulp and paper"),
    "cement": ("水泥", "建材", "非金属矿物制品", "非金属矿物制品业",
               "cement and building materials", "non-metallic mineral products"),
    "metals": ("金属", "冶金", "钢铁", "金属冶炼", "黑色金属冶炼和压延加工业",
               "有色金属冶炼和压延加工业", "金属制品业", "metal", "steel", "metallurgy"),
    "machinery": ("机械", "机械制造", "装备制造", "通用设备制造业", "专用设备制造业",
                  "汽车制造业", "电气机械和器材制造业", "machine", "equipment",
                  "machinery manufacturing"),
    "electronics": ("电子", "电子信息", "电子制造", "计算机、通信和其他电子设备制造业",
                    "通信设备", "electronic", "electronic information", "ict manufacturing"),
    "wholesale_retail": ("批发零售", "批发和零售业", "批发业", "零售业", "商贸", "商贸流通",
                         "wholesale", "retail", "wholesale and retail"),
    "accommodation_catering": ("住宿餐饮", "住宿和餐饮业", "住宿业", "餐饮业", "餐饮", "酒店",
                               "hotels", "catering", "hotels and restaurants"),
}


def _key(name: object) -> str:
    """Return ``name`` as compared: no spaces, case folded, half-width brackets."""
    text = "".join(str(name).split()).casefold()
    return text.replace("（", "(").replace("）", ")").replace("，", ",").replace("_", " ")


class SectorMatcher:
    """Finds the scenario sector a firm table's sector name means.

    Parameters
    ----------
    sectors : sequence of (name, label_zh)
        The scenario's sectors, in code order.
    mapping : mapping of str to str, optional
        A user's names -> scenario sector names (or labels); wins over the rest.
    mapping_file : Path, optional
        Where ``mapping`` came from, named in errors.

    Raises
    ------
    ScenarioError
        If the mapping maps a name to something that is not a scenario sector
        (naming the mapping file).
    """

    def __init__(self, sectors: Sequence[tuple[str, str]], *,
                 mapping: Mapping[str, str] | None = None,
                 mapping_file: Path | None = None) -> None:
        self.names = [name for name, _ in sectors]
        self.labels = {name: label for name, label in sectors}
        self._exact: dict[str, int] = {}
        for code, (name, label) in enumerate(sectors):
            for word in (name, name.replace("_", " "), label):
                if word:
                    self._exact.setdefault(_key(word), code)
        for code, name in enumerate(self.names):
            for alias in SECTOR_ALIASES.get(name, ()):
                self._exact.setdefault(_key(alias), code)
        self._mapped: dict[str, int] = {}
        for own, target in (mapping or {}).items():
            code = self._exact.get(_key(target))
            if code is None:
                raise ScenarioError(f"maps {own!r} to {target!r}, which is not a sector of the "
                                    f"scenario ({self.known()})", file=mapping_file,
                                    field=str(own))
            self._mapped[_key(own)] = code

    @classmethod
    def for_scenario(cls, scenario: Scenario, *, mapping_file: str | Path | None = None
                     ) -> SectorMatcher:
        """Return the matcher of ``scenario``'s sectors, with a mapping file if given."""
        sectors = [(name, spec.label_zh) for name, spec in scenario.population.sectors.items()]
        if mapping_file is None:
            return cls(sectors)
        path = Path(mapping_file)
        return cls(sectors, mapping=read_sector_map(path), mapping_file=path)

    def known(self) -> str:
        """Return the scenario's sectors as text: ``machinery (通用及专用设备制造), ...``."""
        return ", ".join(f"{n} ({self.labels[n]})" if self.labels[n] else n for n in self.names)

    def code(self, name: object) -> int | None:
        """Return the sector code ``name`` means, or None."""
        key = _key(name)
        if key in self._mapped:
            return self._mapped[key]
        return self._exact.get(key)

    def unknown_message(self, name: object, *, mapping_hint: bool = True) -> str:
        """Return the error message for a name that is no sector, with the nearest names."""
        words = {**{_key(n): n for n in self.names}, **{_key(lab): lab for lab in
                                                        self.labels.values() if lab}}
        for name_, aliases in SECTOR_ALIASES.items():
            if name_ in self.labels:
                words.update({_key(a): a for a in aliases})
        close = difflib.get_close_matches(_key(name), list(words), n=3, cutoff=0.5)
        hint = (f" (did you mean {' or '.join(repr(words[c]) for c in close)}?)" if close
                else "")
        return (f"unknown sector {str(name)!r}{hint}; sectors: {self.known()}"
                + (". Map other names with --sectors FILE (see docs: how-to/real-firm-table)"
                   if mapping_hint else ""))


def read_sector_map(path: str | Path) -> dict[str, str]:
    """Read a sector mapping file: a firm table's sector names -> scenario sectors.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (UTF-8 or GBK) with a header and two columns, the table's
        name and the scenario's sector (``name,sector``; the headers may be
        anything), or ``.yaml``/``.yml`` holding a mapping ``name: sector``.

    Returns
    -------
    dict of str to str

    Raises
    ------
    ScenarioError
        Naming the file (and line): missing, unreadable, not two columns, a
        blank cell, or a name mapped twice to different sectors.
    """
    path = Path(path)
    if not path.is_file():
        raise ScenarioError("sector mapping file not found", file=path, field="--sectors")
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ScenarioError(f"cannot read sector mapping: {str(exc).splitlines()[0]}",
                                file=path) from None
        if not isinstance(data, dict) or not all(
                isinstance(v, str) and v.strip() for v in data.values()):
            raise ScenarioError("a sector mapping file holds a mapping of names to sectors "
                                "(e.g. 机械加工: machinery)", file=path)
        return {str(k).strip(): v.strip() for k, v in data.items()}
    if suffix != ".csv":
        raise ScenarioError(f"unsupported sector mapping type {suffix!r} (use .csv or .yaml)",
                            file=path, field="--sectors")
    return _read_map_csv(path)


def _read_map_csv(path: Path) -> dict[str, str]:
    import csv
    import io

    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ScenarioError("cannot decode file (expected UTF-8 or GBK)", file=path)
    reader = csv.reader(io.StringIO(text))
    out: dict[str, str] = {}
    header = True
    for record in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in record):
            continue
        if header:
            header = False
            continue
        cells = [c.strip() for c in record]
        if len(cells) < 2 or not cells[0] or not cells[1] or any(cells[2:]):
            raise ScenarioError("expected two cells, the table's name and the scenario's "
                                f"sector; got {record!r}", file=path, line=line)
        if cells[0] in out and out[cells[0]] != cells[1]:
            raise ScenarioError(f"{cells[0]!r} is mapped twice ({out[cells[0]]!r} and "
                                f"{cells[1]!r})", file=path, line=line)
        out[cells[0]] = cells[1]
    if not out:
        raise ScenarioError("sector mapping has no rows under its header", file=path)
    return out
