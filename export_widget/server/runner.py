"""Start the export server inside this process (the widget and the tests use this).

Contract (implemented by the API side):

    start_local_server(*, db_url=None, demo=True, rows=0, host="127.0.0.1", port=0,
                       api_key=None, data_dir=None) -> LocalServer

`LocalServer` has `endpoint` ("http://127.0.0.1:PORT/graphql"), `base_url`, `api_key`,
`db_url`, `data_dir`, `stop()`, and works as a context manager.
"""
