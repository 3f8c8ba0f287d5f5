"""The engine as a service: a predictions API shaped like the hosted one, so its client works.

``inpaint-studio-cli serve`` starts it. The pieces: :mod:`.config` (what the server was started
with), :mod:`.catalog` (the models it offers and their versions), :mod:`.inputs` (the hosted input
names, validated, mapped onto :class:`~inpaint_core.request.InpaintRequest`), :mod:`.sources` (input
URLs: uploaded files, ``data:`` URIs, public http(s) addresses), :mod:`.predictions` (records, the
one-worker queue, long-poll, cancel, retention), :mod:`.app` (the HTTP routes and limits),
:mod:`.server` (uvicorn, in the foreground or in a thread), :mod:`.cli` (the ``serve`` command)
and :mod:`.remote` (the client side: an engine that runs on a remote server through this API).
"""
