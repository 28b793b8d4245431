package ai.echo.defaultbackend;

import java.util.Locale;

/**
 * A media type the server can answer an error page with. XML has two, because clients ask for either and
 * the response must name the one they accepted. The order is the last tie-break of negotiation.
 */
enum Variant {
    TEXT_HTML("text", "html", PageFormat.HTML),
    APPLICATION_JSON("application", "json", PageFormat.JSON),
    TEXT_PLAIN("text", "plain", PageFormat.TEXT),
    APPLICATION_XML("application", "xml", PageFormat.XML),
    TEXT_XML("text", "xml", PageFormat.XML);

    final String type;
    final String subtype;
    final PageFormat format;
    /** The Content-Type header value: always the served type with its charset, never the client's words. */
    final String contentType;
    /** The same, as {@link Responses#contentTypeLine} encodes it for a response. */
    final byte[] contentTypeLine;
    /**
     * The same, then {@code Vary: Accept}: what an error page says, since its format was negotiated from the
     * client's {@code Accept} (directly, or as ingress-nginx passes it in {@code X-Format}), so that a cache in
     * front of the ingress does not hand a JSON page to a browser.
     */
    final byte[] negotiatedContentTypeLine;

    Variant(String type, String subtype, PageFormat format) {
        this.type = type;
        this.subtype = subtype;
        this.format = format;
        this.contentType = type + "/" + subtype + "; charset=utf-8";
        this.contentTypeLine = Responses.contentTypeLine(contentType);
        this.negotiatedContentTypeLine = Responses.contentTypeLine(contentType + "\r\nVary: Accept");
    }

    String mediaType() {
        return type + "/" + subtype;
    }

    /**
     * Reads {@code --default-response-format}: a media type as custom-error-pages takes it
     * ({@code text/html}, {@code application/json}...), parameters ignored, or a short name
     * ({@code html}, {@code json}, {@code xml}, {@code text}).
     */
    static Variant fromFlag(String value) {
        String media = value.trim().toLowerCase(Locale.ROOT);
        int semicolon = media.indexOf(';');
        if (semicolon >= 0) {
            media = media.substring(0, semicolon).trim();
        }
        for (Variant variant : values()) {
            if (variant.mediaType().equals(media)) {
                return variant;
            }
        }
        switch (media) {
            case "html":
                return TEXT_HTML;
            case "json":
                return APPLICATION_JSON;
            case "xml":
                return APPLICATION_XML;
            case "text":
            case "plain":
                return TEXT_PLAIN;
            default:
                throw new IllegalArgumentException(
                        "must be one of text/html, application/json, application/xml, text/xml, text/plain");
        }
    }
}
