"""Several threads on one clock, taking turns: how a release runs one engine per service.

Each service's deployment is written as a sequence of steps and waits (the engine); a
release runs them side by side, one thread each. A `TurnClock` lets exactly one of those
threads run at a time: a thread runs until it sleeps on the clock, and then the thread whose
wake-up time comes first gets the turn. Time moves only when every thread sleeps, by asking
the base clock to sleep until that wake-up — on a VirtualClock that is a jump (and the
simulated AWS ticks with it), on the real clock a real sleep.

Why turns rather than free threads: runs repeat exactly (a release of 20 services on
virtual time gives the same result every time), the simulated AWS is never entered by two
threads at once, and the calls to AWS of all the services are naturally paced (one at a
time from this process). What it costs: a thread that blocks without sleeping on the clock
holds the turn while it does — unless it says so with `away` (a hook's process, an HTTP
smoke request). On the real clock the other threads then take turns meanwhile, so twenty
services' smoke tests at a stage run side by side, not one after another; back, the
thread waits for its turn like a sleeper due now (a thread waiting for its own due time
on the real clock gives way to it). On a virtual clock `away` keeps the turn: what it
waits for takes no virtual time, and a run repeats exactly.

Ties (two threads due at the same instant) go in the order the bodies were given, so a stage
reached by every service at the same instant is acted on service by service, in the
release's order. `wake_all` brings every sleeper's wake-up to now: a thread that changed
what the others wait for (a failure, the last arrival at a barrier) lets them see it at
once rather than at their next poll. A thread that is not taking turns (the main thread
starting the others) sleeps on the base clock directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

from bluegreen.clock import Clock, RealClock

_HELD = -1  # the turn while the threads of run_all gather: nobody's


class TurnClock:
    def __init__(self, base: Clock) -> None:
        self.base = base
        # One lock; a condition on it per thread, so that passing the turn wakes only the
        # thread that gets it (with fifty threads, waking all of them at every turn to see
        # whose it was cost more than the release's own work).
        self._lock = threading.Lock()
        self._gathering = threading.Condition(self._lock)  # run_all, its threads arriving
        self._turn: dict[int, threading.Condition] = {}  # thread → what it waits on
        self._wake: dict[int, float] = {}  # thread → when it wants its turn back
        self._order: dict[int, int] = {}  # thread → its body's place (breaks ties)
        self._running: int | None = None
        self._away: set[int] = set()  # threads blocked on something else (`away`)
        # threads the turn came to, waiting on the real clock for their due time (one may
        # have lost the turn meanwhile to a thread back from `away`: hence a set)
        self._timed: set[int] = set()
        self._real = isinstance(base, RealClock)  # only then may a thread go away

    def now(self) -> float:
        return self.base.now()

    def sleep(self, seconds: float) -> None:
        me = threading.get_ident()
        if me not in self._order or me in self._away:
            self.base.sleep(seconds)
            return
        with self._lock:
            self._wake[me] = self.base.now() + max(seconds, 0.0)
            self._pass_turn()
            self._wait_for_turn(me)

    @contextmanager
    def away(self) -> Iterator[None]:
        """The calling thread blocks on something other than the clock inside: on the real
        clock the others take turns meanwhile and it waits for its turn once back (it sleeps
        on the real clock directly while away); on any other clock it keeps its turn."""
        me = threading.get_ident()
        if not self._real or me not in self._order or me in self._away:
            yield
            return
        with self._lock:
            self._away.add(me)
            self._pass_turn()
        try:
            yield
        finally:
            with self._lock:
                self._away.discard(me)
                self._wake[me] = self.base.now()
                if self._running is None or self._running in self._timed:
                    self._pass_turn()  # nobody runs (the holder only waits for its time)
                self._wait_for_turn(me)

    def wake_all(self) -> None:
        """Every sleeping thread is due now (the caller keeps its turn until it sleeps)."""
        now = self.base.now()
        with self._lock:
            for thread, at in self._wake.items():
                self._wake[thread] = min(at, now)

    def run_all(self, bodies: Sequence[Callable[[], None]], names: Sequence[str]) -> None:
        """Run each body in a thread of its own, taking turns, from the same instant; return
        when every one has ended. Ties go to the earlier body. An exception a body raised is
        raised here, once all have ended."""
        errors: list[BaseException] = []
        with self._lock:
            self._running = _HELD  # nobody starts before everybody is there
        threads = [
            threading.Thread(
                target=self._take_part, args=(order, body, errors), name=name, daemon=True
            )
            for order, (body, name) in enumerate(zip(bodies, names, strict=True))
        ]
        for thread in threads:
            thread.start()
        with self._lock:
            while len(self._order) < len(threads) and any(t.is_alive() for t in threads):
                self._gathering.wait(0.1)
            self._pass_turn()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)  # in short waits, so the main thread still takes signals
        if errors:
            raise errors[0]

    def _take_part(self, order: int, body: Callable[[], None], errors: list[BaseException]) -> None:
        me = threading.get_ident()
        with self._lock:
            self._order[me] = order
            self._turn[me] = threading.Condition(self._lock)
            self._wake[me] = self.base.now()
            self._gathering.notify()
            self._wait_for_turn(me)
        try:
            body()
        except BaseException as exc:  # handed to the main thread, raised there
            errors.append(exc)
        finally:
            with self._lock:
                self._wake.pop(me, None)
                del self._order[me], self._turn[me]
                self._pass_turn()

    def _wait_for_turn(self, me: int) -> None:
        """Wait until the turn is ours, then until our wake-up: time moves here, in the
        thread that wakes (so a clock that fails, a sandbox server gone, fails that
        thread's own sleep, and never a thread that was giving its turn away)."""
        turn = self._turn[me]
        while True:
            while self._running != me:
                turn.wait()
            ahead = self._wake[me] - self.base.now()
            if ahead <= 0:
                del self._wake[me]
                return
            if not self._real:
                del self._wake[me]
                self.base.sleep(ahead)  # every other thread sleeps: time moves (the world ticks)
                return
            # Real time passes with the lock let go: a thread back from `away` in the
            # meantime is due before us and takes the turn (we then wait for it again).
            self._timed.add(me)
            try:
                turn.wait(timeout=ahead)
            finally:
                self._timed.discard(me)

    def _pass_turn(self) -> None:
        """Give the turn to the thread due first. Called holding the lock, by the thread
        giving its turn up; never raises, so a turn is never lost."""
        if not self._wake:
            self._running = None
            return
        self._running = min(self._wake, key=lambda t: (self._wake[t], self._order[t]))
        self._turn[self._running].notify()


def away(clock: Clock) -> AbstractContextManager[None]:
    """`clock.away()` for a TurnClock (a release's services), nothing for any other clock:
    wrap a wait that is not on the clock (a hook's process, an HTTP request) in it."""
    return clock.away() if isinstance(clock, TurnClock) else nullcontext()
