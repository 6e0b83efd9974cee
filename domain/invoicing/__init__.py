"""Invoicing the OPCO: invoice lines, their kinds and ceilings, the rules an invoice must meet, and the ledger of
what was invoiced and paid on each instalment (échéance) of a contract."""
