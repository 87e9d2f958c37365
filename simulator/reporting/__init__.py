"""Reports made from result files alone: the policy brief and the firm report card.

Modules
-------
:mod:`~simulator.reporting.brief`
    :func:`~simulator.reporting.brief.write_report`: the brief of a run, a
    comparison or a sweep (:mod:`~simulator.reporting.run_brief`,
    :mod:`~simulator.reporting.compare_brief`,
    :mod:`~simulator.reporting.sweep_brief`, from the parts they share in
    :mod:`~simulator.reporting.sections`).
:mod:`~simulator.reporting.card`
    :func:`~simulator.reporting.card.write_card`: a firm's report card; what
    would lift its class is :mod:`~simulator.reporting.lift`.
:mod:`~simulator.reporting.html`
    Tables, number formats, the page and its style.

The text of both comes from the catalogue's locales (:mod:`simulator.catalogue`).
:mod:`simulator.report` and :mod:`simulator.card` re-export the public names.
"""
