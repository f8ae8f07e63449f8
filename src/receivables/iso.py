"""ISO 4217 currency and ISO 3166-1 country codes, from the pycountry package's data."""

from __future__ import annotations

from functools import cache

import pycountry


@cache
def currency_codes() -> tuple[str, ...]:
    return tuple(sorted(currency.alpha_3 for currency in pycountry.currencies))


@cache
def country_codes() -> tuple[str, ...]:
    return tuple(sorted(country.alpha_2 for country in pycountry.countries))
