"""The one history engine: scope, merge, order, paginate, totals and partial results."""
