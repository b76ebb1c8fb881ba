"""Providers fetch a :class:`~capwatch.models.Snapshot` from a source.

Built-in and third-party providers register in the ``capwatch.providers`` entry-point group; see
:func:`capwatch.providers.base.load_provider`.
"""
