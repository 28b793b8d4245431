package ai.echo.defaultbackend;

/**
 * Reason phrases for the statuses an error page can carry (400 to 599): the RFC 9110 names, plus the
 * registered ones from other RFCs; an unregistered code gets its class name.
 */
final class StatusText {

    private static final String[] REASONS = new String[200];
    /** The codes as text, made on first use: a page shows its code on every request that asks for it. */
    private static final String[] CODES = new String[200];

    static {
        put(400, "Bad Request");
        put(401, "Unauthorized");
        put(402, "Payment Required");
        put(403, "Forbidden");
        put(404, "Not Found");
        put(405, "Method Not Allowed");
        put(406, "Not Acceptable");
        put(407, "Proxy Authentication Required");
        put(408, "Request Timeout");
        put(409, "Conflict");
        put(410, "Gone");
        put(411, "Length Required");
        put(412, "Precondition Failed");
        put(413, "Content Too Large");
        put(414, "URI Too Long");
        put(415, "Unsupported Media Type");
        put(416, "Range Not Satisfiable");
        put(417, "Expectation Failed");
        put(418, "I'm a teapot");
        put(421, "Misdirected Request");
        put(422, "Unprocessable Content");
        put(423, "Locked");
        put(424, "Failed Dependency");
        put(425, "Too Early");
        put(426, "Upgrade Required");
        put(428, "Precondition Required");
        put(429, "Too Many Requests");
        put(431, "Request Header Fields Too Large");
        put(451, "Unavailable For Legal Reasons");
        put(500, "Internal Server Error");
        put(501, "Not Implemented");
        put(502, "Bad Gateway");
        put(503, "Service Unavailable");
        put(504, "Gateway Timeout");
        put(505, "HTTP Version Not Supported");
        put(506, "Variant Also Negotiates");
        put(507, "Insufficient Storage");
        put(508, "Loop Detected");
        put(510, "Not Extended");
        put(511, "Network Authentication Required");
    }

    private StatusText() {
    }

    private static void put(int code, String reason) {
        REASONS[code - 400] = reason;
    }

    /** The reason phrase for a code from 400 to 599. */
    static String reason(int code) {
        String reason = REASONS[code - 400];
        return reason != null ? reason : code < 500 ? "Client Error" : "Server Error";
    }

    /** A code from 400 to 599 as text, the same string every time. */
    static String code(int code) {
        String text = CODES[code - 400];
        if (text == null) {
            // A race makes two equal strings at worst; a String is safely published through any field.
            text = Integer.toString(code);
            CODES[code - 400] = text;
        }
        return text;
    }

    /**
     * The code an {@code X-Code} value asks for: exactly three digits from 400 to 599 (surrounding spaces
     * allowed), else 0.
     */
    static int parseErrorCode(CharSequence value) {
        if (value == null) {
            return 0;
        }
        int start = 0;
        int end = value.length();
        while (start < end && (value.charAt(start) == ' ' || value.charAt(start) == '\t')) {
            start++;
        }
        while (end > start && (value.charAt(end - 1) == ' ' || value.charAt(end - 1) == '\t')) {
            end--;
        }
        if (end - start != 3) {
            return 0;
        }
        int code = 0;
        for (int i = start; i < end; i++) {
            char c = value.charAt(i);
            if (c < '0' || c > '9') {
                return 0;
            }
            code = code * 10 + (c - '0');
        }
        return code >= ErrorPages.FIRST_CODE && code <= ErrorPages.LAST_CODE ? code : 0;
    }
}
