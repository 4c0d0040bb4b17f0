package org.example.baas.assettransfer;

import java.util.Map;
import java.util.TreeMap;

/**
 * An asset as the ledger stores it: canonical JSON, keys sorted, no whitespace, e.g.
 * {@code {"AppraisedValue":300,"Color":"blue","ID":"asset1","Owner":"Tomoko","Size":5}}.
 *
 * <p>Every endorsing peer must write byte-identical values, so the text is produced here field
 * by field instead of by a JSON library whose key order could differ. {@link #parse} reads back
 * exactly what {@link #toJson} writes (a flat object of strings and non-negative integers).
 */
final class Asset {

    final String id;
    final String color;
    final long size;
    final String owner;
    final long appraisedValue;

    Asset(final String id, final String color, final long size, final String owner, final long appraisedValue) {
        this.id = id;
        this.color = color;
        this.size = size;
        this.owner = owner;
        this.appraisedValue = appraisedValue;
    }

    /** The same asset with another owner. */
    Asset withOwner(final String newOwner) {
        return new Asset(id, color, size, newOwner, appraisedValue);
    }

    /** Canonical JSON: keys in byte order, strings escaped as JSON requires. */
    String toJson() {
        return "{\"AppraisedValue\":" + appraisedValue
                + ",\"Color\":" + Json.quote(color)
                + ",\"ID\":" + Json.quote(id)
                + ",\"Owner\":" + Json.quote(owner)
                + ",\"Size\":" + size
                + "}";
    }

    /** The asset stored as {@code text}; fails on anything {@link #toJson} would not write. */
    static Asset parse(final String text) {
        final Map<String, Object> fields = Json.parseFlatObject(text);
        return new Asset(
                Json.string(fields, "ID"),
                Json.string(fields, "Color"),
                Json.number(fields, "Size"),
                Json.string(fields, "Owner"),
                Json.number(fields, "AppraisedValue"));
    }

    /** A minimal JSON reader and writer for flat objects of strings and integers. */
    static final class Json {

        private Json() {
        }

        static String quote(final String value) {
            final StringBuilder out = new StringBuilder(value.length() + 2).append('"');
            for (int i = 0; i < value.length(); i++) {
                final char c = value.charAt(i);
                switch (c) {
                    case '"':
                        out.append("\\\"");
                        break;
                    case '\\':
                        out.append("\\\\");
                        break;
                    case '\n':
                        out.append("\\n");
                        break;
                    case '\r':
                        out.append("\\r");
                        break;
                    case '\t':
                        out.append("\\t");
                        break;
                    case '\b':
                        out.append("\\b");
                        break;
                    case '\f':
                        out.append("\\f");
                        break;
                    default:
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                }
            }
            return out.append('"').toString();
        }

        static Map<String, Object> parseFlatObject(final String text) {
            final Reader reader = new Reader(text);
            final Map<String, Object> fields = new TreeMap<>();
            reader.expect('{');
            if (!reader.consume('}')) {
                do {
                    final String key = reader.string();
                    reader.expect(':');
                    fields.put(key, reader.peek() == '"' ? reader.string() : reader.integer());
                } while (reader.consume(','));
                reader.expect('}');
            }
            reader.end();
            return fields;
        }

        static String string(final Map<String, Object> fields, final String key) {
            final Object value = fields.get(key);
            if (!(value instanceof String)) {
                throw new IllegalArgumentException("stored asset has no string " + key);
            }
            return (String) value;
        }

        static long number(final Map<String, Object> fields, final String key) {
            final Object value = fields.get(key);
            if (!(value instanceof Long)) {
                throw new IllegalArgumentException("stored asset has no integer " + key);
            }
            return (Long) value;
        }
    }

    /** A cursor over JSON text (no whitespace: the canonical form has none). */
    private static final class Reader {

        private final String text;
        private int at;

        Reader(final String text) {
            this.text = text;
        }

        char peek() {
            if (at >= text.length()) {
                throw new IllegalArgumentException("unexpected end of stored JSON");
            }
            return text.charAt(at);
        }

        boolean consume(final char c) {
            if (at < text.length() && text.charAt(at) == c) {
                at++;
                return true;
            }
            return false;
        }

        void expect(final char c) {
            if (!consume(c)) {
                throw new IllegalArgumentException("expected '" + c + "' at " + at + " in stored JSON");
            }
        }

        void end() {
            if (at != text.length()) {
                throw new IllegalArgumentException("trailing characters in stored JSON");
            }
        }

        long integer() {
            final int start = at;
            while (at < text.length() && Character.isDigit(text.charAt(at))) {
                at++;
            }
            if (start == at) {
                throw new IllegalArgumentException("expected a number at " + start + " in stored JSON");
            }
            return Long.parseLong(text.substring(start, at));
        }

        String string() {
            expect('"');
            final StringBuilder out = new StringBuilder();
            while (peek() != '"') {
                final char c = text.charAt(at++);
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                final char escaped = peek();
                at++;
                switch (escaped) {
                    case 'n':
                        out.append('\n');
                        break;
                    case 'r':
                        out.append('\r');
                        break;
                    case 't':
                        out.append('\t');
                        break;
                    case 'b':
                        out.append('\b');
                        break;
                    case 'f':
                        out.append('\f');
                        break;
                    case 'u':
                        if (at + 4 > text.length()) {
                            throw new IllegalArgumentException("truncated \\u escape in stored JSON");
                        }
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                        break;
                    default:
                        out.append(escaped); // '"', '\\' and '/'
                }
            }
            at++;
            return out.toString();
        }
    }
}
