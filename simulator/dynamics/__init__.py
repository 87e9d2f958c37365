"""Enterprise dynamics over the years: investment, exit, entry, land and fund recycling.

The calendar (:mod:`simulator.engine.calendar`) runs these stages at the end
of each year, after the annual evaluation (classes of next year known), in
this order, and completes projects in the months they are due. Everything
acts on all firms at once; loops run over the four investment options or the
regions, never over firms.

1. **Money** (:func:`exits.settle_money`). Cash grows by the year's profit
   net of interest on borrowed money at the class's loan rate; loss years
   are counted (zombies: ``exit.zombie_loss_years`` in a row).
2. **Exit** (:func:`exits.close_firms`, 腾笼换鸟): losses, failed
   rectification in D, provincial elimination quotas. Land becomes idle,
   quota rights go to the reserve.
3. **Fund recycling** (:func:`fund.recycle`): a share of the year's
   recyclable revenue; awards to class A firms now, retrofit grants later.
4. **Investment** (:func:`invest.decide`): every surviving firm that reviews
   its options values them (:mod:`simulator.investment`) at the prices it
   expects (:mod:`~.prices`) and takes the affordable ones with positive NPV;
   projects complete after their lead time (:func:`projects.complete`).
5. **Entry and land** (:func:`entry.admit`, 标准地): the land pools release
   new and revitalised land (:mod:`simulator.dynamics.land`); candidates meeting the
   entry standards win land by expected tax per mu and enter next year.

The dynamics' own state (land pools, the fund, projects) is
:class:`~.state.DynamicsState`, held by the run's state.
"""

from simulator.dynamics.state import EXIT_REASONS, DynamicsState, YearEnd

__all__ = ["EXIT_REASONS", "DynamicsState", "YearEnd"]
