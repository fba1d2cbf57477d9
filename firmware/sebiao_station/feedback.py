"""LED and buzzer feedback, driven from the main loop (never sleeps).

misuse: green off, red on and latched, then `misuse_beeps` beeps of
        `misuse_beep_ms` with `misuse_gap_ms` between them (default three of 150 ms);
clear:  red off, buzzer off, green on;
test:   red, green, buzzer in turn (`test_step_ms` each, default 0.6 s, the
        installer's check), then the lights as they were before it.
The timings are config "feedback" (config.py bounds them; settings.py may change them).
"""

CLEAR = ((0, "red", 0), (0, "buzzer", 0), (0, "green", 1))
NAMES = ("misuse", "clear", "test")


def pattern(name, fb):
    """((ms from start, pin, value), ...) of pattern `name` with config "feedback" `fb`, made when it is
    played (nothing is kept in RAM between two), and the test's end."""
    beep, gap, step = fb["misuse_beep_ms"], fb["misuse_gap_ms"], fb["test_step_ms"]
    if name == "misuse":
        steps = [(0, "green", 0), (0, "red", 1)]
        t = 0
        for _ in range(fb["misuse_beeps"]):
            steps.append((t, "buzzer", 1))
            steps.append((t + beep, "buzzer", 0))
            t += beep + gap
        return tuple(steps), 0
    if name == "test":
        return ((0, "green", 0), (0, "buzzer", 0), (0, "red", 1), (step, "red", 0), (step, "green", 1),
                (2 * step, "green", 0), (2 * step, "buzzer", 1), (3 * step, "buzzer", 0)), 3 * step + 200
    return CLEAR, 0


class Feedback:
    def __init__(self, red, green, buzzer, clock, fb):
        self.pins = {"red": red, "green": green, "buzzer": buzzer}
        self.lit = {"red": 0, "green": 0, "buzzer": 0}  # what the pins were last set to
        self.clock = clock
        self.steps = ()  # type: tuple
        self.i = 0
        self.start = 0
        self.pattern = None
        self.fb = fb  # config "feedback"; settings.py may replace it (a pattern playing finishes as it began)
        for p in self.pins.values():
            p.value(0)

    def play(self, name):
        if name not in NAMES:
            return False
        self.pattern = name
        self.steps, end = pattern(name, self.fb)
        if name == "test":  # then back to the station's state (a latched red stays red)
            self.steps = self.steps + ((end, "red", self.lit["red"]), (end, "green", self.lit["green"]))
        self.i = 0
        self.start = self.clock.ticks_ms()
        self.step()
        return True

    def step(self):
        elapsed = self.clock.since(self.start)
        while self.i < len(self.steps) and self.steps[self.i][0] <= elapsed:
            step = self.steps[self.i]  # type: tuple
            self.pins[step[1]].value(step[2])
            self.lit[step[1]] = step[2]
            self.i += 1

    def busy(self):
        return self.i < len(self.steps)
