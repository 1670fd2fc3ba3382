"""A value for a field, checked as a real org checks it before it saves a record.

Two kinds of refusal, as in a real org: a value the JSON reader cannot turn into the field's type fails
the whole request (JSON_PARSER_ERROR, like an unknown field); a value of the right type that breaks the
field's definition fails that record (STRING_TOO_LONG, INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST,
NUMBER_OUTSIDE_VALID_RANGE). Codes: SOAP API Developer Guide, "Core Data Types Used in API Calls"
(StatusCode), https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_concepts_core_data_objects.htm;
messages as a real org words them ("Share Type: bad value for restricted picklist field: Viewer",
"Name: data value too large: ... (max length=80)")."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .clock import format_datetime, parse_date, parse_datetime
from .errors import RequestError, SalesforceError
from .schema import FieldDef

_JSON_TYPES = {"double": "double", "int": "int", "boolean": "boolean", "datetime": "datetime", "date": "date"}


def checked(fdef: FieldDef, value: object) -> object:
    """The value as the org stores it; raises the org's error when it does not fit the field."""
    if value is None or (value == "" and fdef.type not in ("boolean",)):
        return None
    if fdef.type in ("double", "int"):
        return _number(fdef, value)
    if fdef.type == "boolean":
        if not isinstance(value, bool):
            raise _unreadable(fdef, value)
        return value
    if fdef.type == "datetime":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None:
            raise _unreadable(fdef, value)
        return format_datetime(moment)
    if fdef.type == "date":
        if parse_date(value) is None:
            raise _unreadable(fdef, value)
        return value
    if fdef.text or fdef.type == "picklist":
        return _text(fdef, value if isinstance(value, str) else str(value))
    return value


def _text(fdef: FieldDef, value: str) -> str:
    if fdef.restricted_values is not None and value not in fdef.restricted_values:
        raise SalesforceError(400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                              f"{fdef.label}: bad value for restricted picklist field: {value}", [fdef.name])
    if fdef.length is not None and len(value) > fdef.length:
        raise SalesforceError(400, "STRING_TOO_LONG",
                              f"{fdef.label}: data value too large: {value} (max length={fdef.length})", [fdef.name])
    return value


def _number(fdef: FieldDef, value: object) -> int | float:
    if isinstance(value, bool):
        raise _unreadable(fdef, value)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _unreadable(fdef, value) from None
    if not number.is_finite():
        raise _unreadable(fdef, value)
    if fdef.precision is not None:
        scale = fdef.scale or 0
        # A Number(p, s) holds p - s digits before the point; digits past the scale are rounded.
        number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
        if abs(number) >= Decimal(10) ** (fdef.precision - scale):
            raise SalesforceError(400, "NUMBER_OUTSIDE_VALID_RANGE",
                                  f"{fdef.label}: value outside of valid range on numeric field: {value}", [fdef.name])
    return int(number) if fdef.type == "int" or (fdef.scale == 0 and fdef.precision) else float(number)


def _unreadable(fdef: FieldDef, value: object) -> RequestError:
    kind = "VALUE_STRING" if isinstance(value, str) else "VALUE_NUMBER_INT" if isinstance(value, int) else "VALUE"
    return RequestError(400, "JSON_PARSER_ERROR", f"Cannot deserialize instance of {_JSON_TYPES.get(fdef.type, fdef.type)} "
                        f"from {kind} value {value} or request may be missing a required field")
