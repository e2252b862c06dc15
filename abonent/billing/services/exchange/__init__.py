"""Import and export for branches whose billing lives in an external system.

Files are UTF-8 CSV (header required, `;` or `,` detected) or JSON (a list of objects).
Every import is all-or-nothing per file: each row is validated first; if any row is bad
nothing is written and the report lists every rejected row with its line number (the CSV
line, header = 1; the 1-based position of the object in a JSON list) and a Russian reason.
Otherwise the rows are written in one transaction with bulk operations.

Opening balances carry `source_ref = import:<branch>:<file digest>:<line>`, so importing
the same file again posts nothing twice.
"""

from abonent.billing.services.exchange.exports import (
    PAYMENT_FIELDS,
    READING_FIELDS,
    exchange_render,
    export_payments,
    export_readings,
)
from abonent.billing.services.exchange.imports import (
    import_accounts,
    import_balances,
    import_charges,
)
from abonent.billing.services.exchange.parse import (
    ImportReport,
    ParsedFile,
    RejectedRow,
    Row,
    exchange_parse,
)

__all__ = [
    "PAYMENT_FIELDS",
    "READING_FIELDS",
    "ImportReport",
    "ParsedFile",
    "RejectedRow",
    "Row",
    "exchange_parse",
    "exchange_render",
    "export_payments",
    "export_readings",
    "import_accounts",
    "import_balances",
    "import_charges",
]
