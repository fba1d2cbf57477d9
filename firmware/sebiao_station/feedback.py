"""LED and buzzer feedback, driven from the main loop (never sleeps).

misuse: green off, red on and latched, three 150 ms beeps;
clear:  red off, buzzer off, green on;
test:   red, green, buzzer in turn (0.6 s each, the installer's check), then
        the lights as they were before it.
"""

# (ms from start, pin, value)
PATTERNS = {
    "misuse": ((0, "green", 0), (0, "red", 1), (0, "buzzer", 1), (150, "buzzer", 0),
               (300, "buzzer", 1), (450, "buzzer", 0), (600, "buzzer", 1), (750, "buzzer", 0)),
    "clear": ((0, "red", 0), (0, "buzzer", 0), (0, "green", 1)),
    "test": ((0, "green", 0), (0, "buzzer", 0), (0, "red", 1), (600, "red", 0), (600, "green", 1),
             (1200, "green", 0), (1200, "buzzer", 1), (1800, "buzzer", 0)),
}
TEST_MS = 2000  # the test's end, where the lights go back


class Feedback:
    def __init__(self, red, green, buzzer, clock):
        self.pins = {"red": red, "green": green, "buzzer": buzzer}
        self.lit = {"red": 0, "green": 0, "buzzer": 0}  # what the pins were last set to
        self.clock = clock
        self.steps = ()  # type: tuple
        self.i = 0
        self.start = 0
        self.pattern = None
        for p in self.pins.values():
            p.value(0)

    def play(self, name):
        if name not in PATTERNS:
            return False
        self.pattern = name
        self.steps = PATTERNS[name]
        if name == "test":  # then back to the station's state (a latched red stays red)
            self.steps = self.steps + ((TEST_MS, "red", self.lit["red"]), (TEST_MS, "green", self.lit["green"]))
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
