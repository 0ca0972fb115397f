"""BasicSR's runner with the plugin's fixes, for the length of a run: training, testing, the
stage-1b render and the ``perceive-ir`` command.  ``python -m perceive_ir_arch.train`` (and
``.test``, ``.render_medium``) are the entry points; importing this package changes nothing
in BasicSR."""
