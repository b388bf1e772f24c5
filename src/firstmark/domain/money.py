"""Money: ISO 4217 currency codes and amounts."""

from __future__ import annotations

import math
from decimal import Decimal

from firstmark.errors import InvalidField

# Active ISO 4217 alphabetic codes (list one, 2025 edition), plus XAU/XAG-style funds left out.
CURRENCIES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN
    BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD
    JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT
    MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT
    TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF
    XPF YER ZAR ZMW ZWG
    """.split()
)
MAX_VALUE = 1e12


def currency(value: object, field: str = "currency") -> str | None:
    """An ISO 4217 code, upper case; None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidField(field, f"{field} must be a string", code="invalid_type")
    code = value.strip().upper()
    if code not in CURRENCIES:
        raise InvalidField(field, f"{field} must be an ISO 4217 code like EUR or USD")
    return code


def amount(value: object, field: str = "value") -> float | None:
    """A finite, non-negative number; None stays None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidField(field, f"{field} must be a number", code="invalid_type")
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        number = math.inf
    if not math.isfinite(number) or not 0 <= number <= MAX_VALUE:
        raise InvalidField(field, f"{field} must be a number from 0 to {MAX_VALUE:.0e}")
    return number


def tidy(amount: Decimal) -> Decimal:
    """An amount as people write it: two decimals, more only when it has more (0.004 stays)."""
    cents = amount.quantize(Decimal("0.01"))
    return cents if cents == amount else amount.normalize()
