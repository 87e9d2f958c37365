"""Reports made from result files alone: the policy brief and the firm report card.

Modules
-------
:mod:`~simulator.reporting.brief`
    :func:`~simulator.reporting.brief.write_report`: the brief of a run, a
    comparison or a sweep, HTML or PDF (:mod:`~simulator.reporting.run_brief`,
    :mod:`~simulator.reporting.compare_brief`,
    :mod:`~simulator.reporting.sweep_brief`, from the parts they share in
    :mod:`~simulator.reporting.sections`, rendered from the Jinja2 templates in
    ``templates/``). The policy difference in words is
    :mod:`~simulator.reporting.describe`, the findings
    :mod:`~simulator.reporting.findings`, the PDF :mod:`~simulator.reporting.pdf`.
:mod:`~simulator.reporting.card`
    :func:`~simulator.reporting.card.write_card`: a firm's report card; what
    would lift its class is :mod:`~simulator.reporting.lift`.
:mod:`~simulator.reporting.html`
    Templates, tables, number formats, the page and its style;
    :mod:`~simulator.reporting.fonts` embeds the CJK font, subset to the page.

The text of both comes from the catalogue's locales (:mod:`simulator.catalogue`).
:mod:`simulator.report` and :mod:`simulator.card` re-export the public names.
"""
