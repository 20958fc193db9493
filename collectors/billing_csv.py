"""CSV billing files streamed by pyarrow's reader, every row numbered as it streams.

Why not DuckDB's own read_csv for the load: it gives no row numbers. `row_number() OVER ()`
would put the whole load on one thread, and numbering the rows after a parallel insert takes an
UPDATE of every row, which makes DuckDB rewrite what it had just written (a quarter of a large
load). pyarrow parses blocks on all cores and still hands them over in file order, so each batch
takes its numbers from a running count and DuckDB may then insert the batches in any order.

pyarrow's parser is more lenient than DuckDB's strict mode in two ways: a quote left open at the
end of the file (a truncated file) simply ends there, and text after a closing quote (`"ab"c`)
is glued on. So DuckDB's strict reader checks the file first, and the loader compares the two
readers' row counts (billing_read.strict_csv_rows): a file only one of them accepts, or on which
they disagree, is loaded by DuckDB's reader instead (billing_read.py), which names the bad row.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

# Large enough that the per-batch Python work (one numpy range) is noise, small enough that a
# batch in flight per thread stays a few MB.
BLOCK_BYTES = 4 << 20
NULL_TEXTS = ["", "NULL", "null"]  # as DuckDB's reader is told (billing_read.relation_sql)


class NumberedCsv:
    """The file's columns, all as text, plus `row_col` (1-based data row), as an Arrow stream.

    A read failure inside the stream reaches DuckDB only as a generic stream error; it is kept
    in `failure` so that the loader can tell "pyarrow could not read this" (fall back to
    DuckDB's reader) from "a value did not convert" (name the row and column).
    """

    def __init__(self, path: str, header: list[str], row_col: str) -> None:
        self.path = path
        self.header = header
        self.schema = pa.schema(
            [pa.field(name, pa.string()) for name in header] + [pa.field(row_col, pa.int64())]
        )
        self.rows = 0
        self.failure: Exception | None = None

    def reader(self) -> pa.RecordBatchReader:
        """A one-shot stream; DuckDB pulls it batch by batch (nothing is read before that)."""
        return pa.RecordBatchReader.from_batches(self.schema, self._batches())

    def _batches(self) -> Iterator[pa.RecordBatch]:
        try:
            csv = pacsv.open_csv(
                self.path,  # `.gz` is decompressed on the fly
                read_options=pacsv.ReadOptions(use_threads=True, block_size=BLOCK_BYTES),
                parse_options=pacsv.ParseOptions(
                    delimiter=",",
                    quote_char='"',
                    double_quote=True,
                    escape_char=False,
                    newlines_in_values=True,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in self.header},
                    null_values=NULL_TEXTS,
                    strings_can_be_null=True,
                    quoted_strings_can_be_null=True,
                ),
            )
            if csv.schema.names != self.header:
                raise ValueError(
                    f"pyarrow read the header as {csv.schema.names}, not {self.header}"
                )
            for batch in csv:
                n = batch.num_rows
                # numpy: ~50x faster than pa.array(range(...)), which iterates in Python
                numbers = pa.array(np.arange(self.rows + 1, self.rows + n + 1, dtype=np.int64))
                self.rows += n
                yield pa.RecordBatch.from_arrays([*batch.columns, numbers], schema=self.schema)
        except (pa.ArrowException, ValueError, OSError) as exc:
            self.failure = exc
            raise
