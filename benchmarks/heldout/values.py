"""Random personal values and benign look-alikes of the fresh held-out part, shared by the text
and the image generators.

Why one module: a phone number must look the same whether it is typed in a chat line or printed on
a waybill, and checksums (PRC ID, Luhn) must hold in both, so a validating recogniser is not judged
on numbers that could never occur. All randomness comes from the `random.Random` passed in, so a
seed gives the same values everywhere.
"""

from __future__ import annotations

import random
import re

from benchmarks.heldout import vocab as V
from pipelines.privacy.generator import cn_id_complete, luhn_complete  # the same checksums as the old parts

_FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def fullwidth(text: str) -> str:
    """ASCII letters, digits and signs as their full-width forms (what Chinese IMEs often type)."""
    return text.translate(_FULLWIDTH)


def luhn_valid(number: str) -> bool:
    digits = re.sub(r"\D", "", number)
    return len(digits) >= 12 and luhn_complete(digits[:-1]) == digits


def cn_id_valid(value: str) -> bool:
    v = re.sub(r"\s", "", value.translate({0xFF38: "X", 0xFF58: "x"} | {0xFF10 + i: str(i) for i in range(10)})).upper()
    return bool(re.fullmatch(r"\d{17}[\dX]", v)) and cn_id_complete(v[:17]) == v


class Values:
    """Values of one language (`zh` or `en`) drawn with the caller's random generator.

    `ime`: values may be typed with full-width digits (chat text); off for images, whose
    ground truth is compared with OCR output (ASCII) by pipelines/privacy/evaluate.py."""

    def __init__(self, r: random.Random, ime: bool = True):
        self.r, self.ime = r, ime

    # -- helpers ------------------------------------------------------------------------------
    def fill(self, fmt: str, **named) -> str:
        """`{dN}` N digits (no leading 0), `{xN}` N digits, `{hN}` hex, `{AN}` capitals/digits; other
        `{name}` fields from `named`."""
        r = self.r

        def one(m):
            kind, n = m.group(1), int(m.group(2))
            if kind == "d":
                return r.choice("123456789") + "".join(r.choice("0123456789") for _ in range(n - 1))
            if kind == "x":
                return "".join(r.choice("0123456789") for _ in range(n))
            if kind == "h":
                return "".join(r.choice("0123456789abcdef") for _ in range(n))
            return "".join(r.choice("ABCDEFGHJKMNPQRSTUVWXYZ23456789") for _ in range(n))

        return re.sub(r"\{([dxhA])([0-9]+)\}", one, fmt).format(**named)

    def _maybe_fullwidth(self, text: str, p: float) -> str:
        return fullwidth(text) if self.r.random() < p and self.ime else text

    # -- personal values ----------------------------------------------------------------------
    def surname(self) -> str:
        r = self.r
        pool = r.choices(
            (V.ZH_SURNAMES_COMMON, V.ZH_SURNAMES_RARE, V.ZH_SURNAMES_WORDLIKE, V.ZH_SURNAMES_COMPOUND), weights=(4, 3, 1.5, 2)
        )[0]
        return r.choice(pool)

    def person(self, lang: str, titled: float = 0.0) -> str:
        """A full name; with probability `titled` a surname with a title (林女士, Mr Haddad)."""
        r = self.r
        if lang == "zh":
            if r.random() < titled:
                return self.surname() + r.choice(V.ZH_TITLES)
            given = (
                r.choice(V.ZH_GIVEN_WORDS) if r.random() < 0.3 else "".join(r.choice(V.ZH_GIVEN_CHARS) for _ in range(r.choice((1, 2, 2))))
            )
            return self.surname() + given
        if r.random() < titled:
            return f"{r.choice(('Mr', 'Ms', 'Mrs', 'Dr'))} {r.choice(V.EN_LAST)}"
        first, last = r.choice(V.EN_FIRST), r.choice(V.EN_LAST)
        if r.random() < 0.15:
            return f"{first} {r.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
        return f"{first} {last}"

    def phone(self, lang: str) -> str:
        r = self.r
        if lang == "en" and r.random() < 0.7:
            return self.fill(r.choice(V.EN_PHONE_FORMATS), p3=r.choice(("503", "608", "828", "402", "520", "917")))
        if r.random() < 0.15:
            return self.fill(r.choice(V.CN_LANDLINE_FORMATS), area=r.choice(V.CN_AREA_CODES))
        n = r.choice(V.CN_MOBILE_PREFIXES) + "".join(r.choice("0123456789") for _ in range(8))
        out = r.choice(V.CN_MOBILE_FORMATS).format(a=n[:3], b=n[3:7], c=n[7:])
        return self._maybe_fullwidth(out, 0.12 if lang == "zh" else 0.0)

    def id_card(self, lang: str = "zh", fancy: bool = True) -> str:
        r = self.r
        lo, hi = V.ID_BIRTH_YEARS
        region = r.choice(V.ZH_REGIONS)[3]
        first = (
            region
            + str(r.randint(lo, hi))
            + f"{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
            + "".join(r.choice("0123456789") for _ in range(3))
        )
        v = cn_id_complete(first)
        if v.endswith("X") and r.random() < 0.4:
            v = v[:-1] + "x"
        if fancy and r.random() < 0.15:
            v = f"{v[:6]} {v[6:14]} {v[14:]}"
        return self._maybe_fullwidth(v, 0.08 if fancy and lang == "zh" else 0.0)

    def bank_card(self, lang: str = "zh") -> str:
        r = self.r
        prefix = r.choice(V.BANK_PREFIXES)
        length = r.choice(V.BANK_LENGTHS)
        n = luhn_complete(prefix + "".join(r.choice("0123456789") for _ in range(length - len(prefix) - 1)))
        style = r.random()
        if style < 0.4:
            return n
        if style < 0.8:
            return " ".join(n[i : i + 4] for i in range(0, len(n), 4))
        if style < 0.92:
            return "-".join(n[i : i + 4] for i in range(0, len(n), 4))
        return f"{n[:6]} {n[6:]}"

    def email(self, lang: str) -> str:
        r = self.r
        if lang == "zh" and r.random() < 0.4:
            return self.fill("{d9}@qq.com" if r.random() < 0.6 else "{d10}@qq.com")
        if lang == "zh":
            syll = ["xiao", "dong", "mei", "jun", "hao", "ling", "yu", "qing", "zhen", "wen", "lan", "feng", "rui", "tian"]
            local = "".join(r.choice(syll) for _ in range(r.randint(2, 3))) + r.choice(
                ("", str(r.randint(1970, 2005)), str(r.randint(1, 999)))
            )
        else:
            first, last = r.choice(V.EN_FIRST).lower(), re.sub(r"[^a-z]", "", r.choice(V.EN_LAST).lower())
            local = r.choice(
                (
                    f"{first}.{last}",
                    f"{first[0]}{last}",
                    f"{first}_{last}{r.randint(1, 99)}",
                    f"{first}{r.randint(70, 99)}",
                    f"{last}.{first}+shop",
                )
            )
        return f"{local}@{r.choice(V.EMAIL_DOMAINS)}"

    def order_id(self, lang: str = "zh") -> str:
        r = self.r
        fmt = r.choice(V.ORDER_FORMATS if r.random() < 0.8 else V.RETURN_FORMATS)
        return self._maybe_fullwidth(self.fill(fmt), 0.06 if lang == "zh" else 0.0)

    def tracking_id(self, lang: str = "zh") -> str:
        return self.fill(self.r.choice(V.TRACKING_FORMATS))

    def account(self, lang: str) -> str:
        r = self.r
        fmt = r.choice(V.ACCOUNT_FORMATS)
        nick = r.choice(V.ZH_NICKNAMES) if lang == "zh" else r.choice(V.EN_HANDLES)
        return self.fill(fmt, handle=r.choice(V.EN_HANDLES), nick=nick)

    def plate(self, lang: str = "zh") -> str:
        r = self.r
        if lang == "en" and r.random() < 0.6:  # a UK or a US-style registration
            return self.fill(r.choice(V.EN_PLATE_FORMATS))
        head = r.choice(V.PLATE_PROVINCES) + r.choice("ABCDEFGHK") + r.choice(V.PLATE_SEPARATORS)
        if r.random() < 0.3:  # new-energy plates: 6 characters after the separator
            return head + r.choice("DF") + "".join(r.choice("0123456789") for _ in range(5))
        return head + "".join(r.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4)) + r.choice("0123456789")

    def address(self, lang: str, short: bool = False, chat: bool = False) -> str:
        """A postal address; `short`: city, district, road and number only (narrow layouts)."""
        r = self.r
        if lang == "zh":
            prov, city, dist, _ = r.choice(V.ZH_REGIONS)
            est = r.choice(V.ZH_ESTATES)
            road = r.choice(V.ZH_ROADS)
            n = r.randint(1, 399)
            if short:
                return f"{city}{dist}{road}{n}号"
            fields = dict(
                n=n, e=est, b=r.randint(1, 28), u=r.randint(1, 6), f=r.randint(2, 33), r=f"{r.randint(1, 32)}{r.randint(1, 8):02d}"
            )
            if chat and r.random() < 0.3:
                return r.choice(V.ZH_DROP_POINTS).format(**fields)
            tail = r.choice(V.ZH_BUILDINGS).format(**fields)
            head = r.choice((prov + city + dist, city + dist, dist, prov + " " + city + " " + dist + " "))
            return head + road + tail
        fields = dict(
            num=r.randint(3, 9899),
            street=r.choice(V.EN_STREETS),
            city=r.choice(V.EN_CITIES),
            apt=f"{r.randint(1, 30)}{r.choice('ABCD')}",
            u=r.randint(1, 40),
            box=r.randint(100, 9999),
        )
        fields.update(lnum=fields["num"], lstreet=fields["street"].lower(), lcity=fields["city"].split(",")[0].lower())
        if short:
            return "{num} {street}".format(**fields)
        fmts = V.EN_ADDRESS_FORMATS if chat else V.EN_ADDRESS_FORMATS[:-1]
        return r.choice(fmts).format(**fields)

    def store(self, lang: str) -> str:
        r = self.r
        if lang == "zh":
            return r.choice(V.BRANDS["zh"]) + r.choice(V.STORE_SUFFIX)
        return r.choice(V.EN_STORES)

    # -- benign look-alikes -------------------------------------------------------------------
    def price(self, lang: str) -> str:
        r = self.r
        amount = r.choice((r.randint(9, 99) + 0.9, r.randint(100, 5999), r.randint(10, 999) + r.randint(0, 99) / 100))
        if lang == "zh":
            return r.choice((f"¥{amount:,.2f}", f"{amount:g}元", f"￥{amount:.2f}", f"{int(amount)}块"))
        return r.choice((f"${amount:,.2f}", f"£{amount:.2f}", f"{amount:.2f} USD", f"€{amount:.0f}"))

    def date(self, lang: str) -> str:
        r = self.r
        y, m, d, hh, mm = 2026, r.randint(1, 12), r.randint(1, 28), r.randint(0, 23), r.randint(0, 59)
        if lang == "zh":
            return r.choice((f"{y}-{m:02d}-{d:02d}", f"{m}月{d}日", f"{y}/{m:02d}/{d:02d} {hh:02d}:{mm:02d}", f"{y}年{m}月{d}日"))
        return r.choice(
            (
                f"{m:02d}/{d:02d}/{y}",
                f"{d} {('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')[m - 1]}",
                f"{y}-{m:02d}-{d:02d} {hh:02d}:{mm:02d}",
            )
        )

    def model(self, lang: str = "zh") -> str:
        return self.r.choice(V.MODELS)

    def size(self, lang: str) -> str:
        return self.r.choice(V.SIZES[lang])

    def quantity(self, lang: str) -> str:
        n = self.r.randint(1, 12)
        return (
            self.r.choice((f"x{n}", f"{n}件", f"{n}台", f"×{n}"))
            if lang == "zh"
            else self.r.choice((f"x{n}", f"{n} pcs", f"qty {n}", f"{n} units"))
        )

    def pickup_code(self, lang: str = "zh") -> str:
        r = self.r
        return r.choice(
            (
                f"{r.randint(1, 30)}-{r.randint(1, 6)}-{r.randint(1000, 9999)}",
                f"{r.randint(100000, 999999)}",
                f"A{r.randint(10, 99)}-{r.randint(100, 999)}",
            )
        )

    def product(self, lang: str) -> str:
        return self.r.choice(V.PRODUCTS[lang])

    def brand(self, lang: str) -> str:
        return self.r.choice(V.BRANDS[lang])

    def public_figure(self, lang: str) -> str:
        return self.r.choice(V.PUBLIC_FIGURES[lang])

    def movie_mention(self, lang: str = "en") -> str:
        """A ReDial movie mention token (`@` and a movie id): a template marker, not an account."""
        return f"@{self.r.randint(75000, 210000)}"


# text type -> Values method (text part) and image entity name (image part)
PII_TYPES = {
    "PHONE": ("phone", "phone"),
    "ID_CARD": ("id_card", "id_card"),
    "BANK_CARD": ("bank_card", "bank_card"),
    "EMAIL": ("email", "email"),
    "ORDER_ID": ("order_id", "order_number"),
    "TRACKING_ID": ("tracking_id", "tracking_number"),
    "ACCOUNT": ("account", "account"),
    "PERSON": ("person", "person_name"),
    "ADDRESS": ("address", "address"),
    "PLATE": ("plate", "licence_plate"),
}
BENIGN_TYPES = {
    "PRICE": "price",
    "MODEL": "model",
    "DATE": "date",
    "SIZE": "size",
    "QUANTITY": "quantity",
    "PICKUP_CODE": "pickup_code",
    "PRODUCT": "product",
    "BRAND": "brand",
    "PUBLIC_FIGURE": "public_figure",
    "MOVIE_MENTION": "movie_mention",
}
