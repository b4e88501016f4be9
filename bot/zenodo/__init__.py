"""Zenodo (InvenioRDM records API): the HTTP client and the convergent release steps."""
