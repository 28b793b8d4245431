package ai.echo.defaultbackend;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Command-line flags the way Go's {@code flag} package reads them, because 1.5 was a Go program and the
 * ingress-nginx chart renders {@code --key=value}: {@code -x v}, {@code --x v}, {@code -x=v} and
 * {@code --x=v} are all accepted. Each flag also has an environment variable, its name in upper case with
 * {@code _} for {@code -}; a flag on the command line wins over its variable.
 *
 * @param <B> the mutable builder each flag writes its value into
 */
final class Flags<B> {

    /** A flag or environment variable that is unknown or has a value that cannot be used. */
    static final class InvalidFlagException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        InvalidFlagException(String message) {
            super(message);
        }
    }

    /** One flag: its name without dashes, what {@code --help} says of it, and how its value is applied. */
    record Flag<B>(String name, String valueName, String defaultValue, String description,
                   BiConsumer<B, String> apply) {

        /** A switch, like Go's boolean flags: {@code --x} alone means true, {@code --x=false} turns it off. */
        boolean isSwitch() {
            return valueName == null;
        }

        String envName() {
            return name.toUpperCase(Locale.ROOT).replace('-', '_');
        }
    }

    private final Map<String, Flag<B>> flags = new LinkedHashMap<>();

    Flags<B> add(String name, String valueName, String defaultValue, String description, BiConsumer<B, String> apply) {
        flags.put(name, new Flag<>(name, valueName, defaultValue, description, apply));
        return this;
    }

    /** A boolean flag; its apply function receives {@code true} or {@code false}, other values are refused. */
    Flags<B> addSwitch(String name, boolean defaultValue, String description, BiConsumer<B, Boolean> apply) {
        flags.put(name, new Flag<>(name, null, Boolean.toString(defaultValue), description,
                (builder, value) -> apply.accept(builder, bool(value))));
        return this;
    }

    List<Flag<B>> all() {
        return List.copyOf(flags.values());
    }

    /**
     * Where the first of {@code commands} (names without dashes: {@code help}, say) is on the command line, as
     * Go's flag package reaches it, reading in order as {@link #apply} does: it stops at an unknown flag, a
     * non-flag argument or {@code --}, and a command given as a flag's value is that value. A command is
     * matched by name in any of the four spellings, with or without a value ({@code --help=1}), as Go takes
     * {@code -h} and {@code -help}. The flags before it are the caller's to read ({@link #refuseBadFlags}), so
     * that {@code --nope --help} and {@code --port=abc --help} are refused as 1.5 refused them (exit 2), and
     * {@code --help --nope} prints the help.
     *
     * @return its index, or -1 when the reading meets none
     */
    int firstCommand(List<String> args, List<String> commands) {
        for (int i = 0; i < args.size(); ) {
            Arg<B> arg = read(args, i);
            if (arg.name() == null) {
                return -1;
            }
            if (commands.contains(arg.name())) {
                return i;
            }
            if (arg.flag() == null) {
                return -1;
            }
            i = arg.next();
        }
        return -1;
    }

    /**
     * Reads {@code args}, the flags before a command {@link #firstCommand} found, into a builder of no use
     * after, without the environment: as Go reads the flags before {@code -help}, a bad one is refused.
     *
     * @throws InvalidFlagException naming the flag at fault
     */
    void refuseBadFlags(B scratch, List<String> args) {
        apply(scratch, args, Map.of());
    }

    /** A flag argument's name: without its dashes and its {@code =value}. */
    static String name(String arg) {
        String body = arg.startsWith("--") ? arg.substring(2) : arg.substring(1);
        int eq = body.indexOf('=');
        return eq < 0 ? body : body.substring(0, eq);
    }

    /**
     * Applies the environment first, then the command line, so that flags win. A variable set to nothing (or
     * to blanks) is as if unset: custom-error-pages read its three that way ({@code os.Getenv(...) != ""}),
     * and a manifest that renders {@code value: ""} means no value.
     *
     * @return the arguments from the first that is not a flag (or after {@code --}) on, in order
     * @throws InvalidFlagException naming the flag or variable at fault
     */
    List<String> apply(B builder, List<String> args, Map<String, String> env) {
        return apply(builder, args, env, (name, origin) -> {
        });
    }

    /**
     * As {@link #apply(Object, List, Map)}, telling {@code applied} of each value applied: the flag's name
     * and where the value came from, {@code "flag"} or {@code "environment variable PORT"}, in the order
     * applied (so the last told of a flag is the value it has). For messages about settings that are fine
     * alone and wrong together, which must say which of them the user set, and how.
     */
    List<String> apply(B builder, List<String> args, Map<String, String> env, BiConsumer<String, String> applied) {
        for (Flag<B> flag : flags.values()) {
            String value = env.get(flag.envName());
            if (value != null && !value.isBlank()) {
                String origin = "environment variable " + flag.envName();
                applyOne(builder, flag, value, origin);
                applied.accept(flag.name(), origin);
            }
        }
        for (int i = 0; i < args.size(); ) {
            Arg<B> arg = read(args, i);
            if (arg.name() == null) {
                return List.copyOf(args.subList(arg.next(), args.size()));
            }
            if (arg.flag() == null) {
                throw new InvalidFlagException("unknown flag: " + quote("--" + arg.name()));
            }
            if (arg.value() == null) {
                throw new InvalidFlagException("flag needs a value: --" + arg.name());
            }
            applyOne(builder, arg.flag(), arg.value(), "flag --" + arg.name());
            applied.accept(arg.name(), "flag");
            i = arg.next();
        }
        return List.of();
    }

    /**
     * One argument at {@code i}, and the one after it when that is its value, read as Go's flag package reads
     * them: a flag ({@code -x v}, {@code --x v}, {@code -x=v}, {@code --x=v}; a switch alone is {@code true}),
     * or where the flags end.
     *
     * @param name  the flag's name, or null where the flags end: at {@code --}, whose arguments after it are
     *              the rest, or at the first argument that is not a flag, from which on they are
     * @param flag  the flag of that name, or null when there is none
     * @param value its value, or null when it needs one and the command line has ended
     * @param next  the index to read on from; where the flags end, the index of the first of the rest
     */
    private record Arg<B>(String name, Flag<B> flag, String value, int next) {
    }

    private Arg<B> read(List<String> args, int i) {
        String arg = args.get(i);
        if (arg.equals("--")) {
            return new Arg<>(null, null, null, i + 1);
        }
        if (!arg.startsWith("-") || arg.equals("-")) {
            return new Arg<>(null, null, null, i);
        }
        String name = name(arg);
        Flag<B> flag = name.isEmpty() ? null : flags.get(name);
        int eq = arg.indexOf('=');
        if (flag == null) {
            return new Arg<>(name, null, null, i + 1);
        } else if (eq >= 0) {
            return new Arg<>(name, flag, arg.substring(eq + 1), i + 1);
        } else if (flag.isSwitch()) {
            return new Arg<>(name, flag, "true", i + 1);
        } else if (i + 1 < args.size()) {
            return new Arg<>(name, flag, args.get(i + 1), i + 2);
        }
        return new Arg<>(name, flag, null, i + 1);
    }

    private static <B> void applyOne(B builder, Flag<B> flag, String value, String source) {
        try {
            flag.apply().accept(builder, value);
        } catch (IllegalArgumentException e) {
            throw new InvalidFlagException("invalid value " + quote(value) + " for " + source + ": " + e.getMessage());
        }
    }

    /** Renders untrusted text on one line: quoted, with control and non-ASCII characters escaped. */
    static String quote(String text) {
        StringBuilder out = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length() && i < 200; i++) {
            char c = text.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c >= 0x7f) {
                out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        if (text.length() > 200) {
            out.append("...");
        }
        return out.append('"').toString();
    }

    static boolean bool(String value) {
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "1":
            case "t":
            case "true":
                return true;
            case "0":
            case "f":
            case "false":
                return false;
            default:
                throw new IllegalArgumentException("must be true or false");
        }
    }

    static int port(String value) {
        int port = integer(value);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("must be a port number from 0 to 65535");
        }
        return port;
    }

    static int positive(String value) {
        int number = integer(value);
        if (number <= 0) {
            throw new IllegalArgumentException("must be a positive number");
        }
        return number;
    }

    /**
     * An integer as Go's {@code flag} package reads one ({@code strconv.ParseInt} with base 0), so a flag of
     * 1.5's means here what it meant there: an optional sign, then {@code 0x} for hexadecimal, {@code 0o} or a
     * leading {@code 0} for octal ({@code --port=010} is port 8), {@code 0b} for binary, else decimal.
     */
    static int integer(String value) {
        String text = value.trim();
        int digits = text.startsWith("+") || text.startsWith("-") ? 1 : 0;
        int radix = 10;
        if (text.length() - digits > 1 && text.charAt(digits) == '0') {
            char prefix = Character.toLowerCase(text.charAt(digits + 1));
            radix = prefix == 'x' ? 16 : prefix == 'b' ? 2 : 8;
            // After a bare leading 0 come the octal digits; a character that is none fails below.
            digits += prefix == 'x' || prefix == 'o' || prefix == 'b' ? 2 : 1;
        }
        // Java would take a second sign after the prefix; Go takes none.
        if (digits >= text.length() || Character.digit(text.charAt(digits), radix) < 0) {
            throw new IllegalArgumentException("not a number");
        }
        BigInteger number;
        try {
            number = new BigInteger(text.substring(digits), radix);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number");
        }
        number = text.startsWith("-") ? number.negate() : number;
        if (number.bitLength() > 31) {
            throw new IllegalArgumentException("out of range");
        }
        return number.intValue();
    }

    static java.time.Duration duration(String value) {
        return GoDuration.parse(value.trim());
    }
}
