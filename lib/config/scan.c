/* SPDX-License-Identifier: MIT */
/*
 * A lexical pass over libconfig text, for what libconfig 1.5 does not do for us. It
 * follows the states of libconfig's scanner (strings with their escapes, the three kinds
 * of comment, names, numbers), so it sees a token exactly where libconfig would.
 *
 * The guard, before libconfig reads the text:
 * - A decimal integer beyond 32 bits is read with atoi() and silently truncated:
 *   "listen_port = 4294967297;" would read as 1. A hex one beyond 32 bits likewise. Both
 *   are refused; a value that needs 64 bits takes libconfig's L suffix, read exactly.
 * - "@include" makes libconfig open any path it names, also when reading a string: a FIFO
 *   blocks the gateway, a directory makes the flex scanner exit the process. One file
 *   holds the whole configuration, so any '@' outside strings and comments is refused.
 * - A group of many settings costs libconfig quadratic time, and deep nesting its parser
 *   stack: both are refused far past what the file format uses (see check_shape).
 * Text that libconfig refuses anyway may be refused here first, with this file's reason.
 *
 * The locator, after: the true line of an array element, for messages.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "config_scan.h"

struct lex {
	const char *t;
	size_t i;
	unsigned line;
};

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_xdigit(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static bool is_name_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '*';
}

static bool is_name_char(char ch)
{
	return is_name_start(ch) || is_digit(ch) || ch == '-' || ch == '_';
}

/* Past the string whose opening quote is at the cursor: a backslash escapes the next
 * character, whatever it is. */
static void skip_string(struct lex *l)
{
	const char *t = l->t;

	l->i++;
	while (t[l->i] && t[l->i] != '"') {
		if (t[l->i] == '\\' && t[l->i + 1])
			l->i++;
		l->line += t[l->i] == '\n';
		l->i++;
	}
	l->i += t[l->i] != '\0';
}

/* Past whitespace and comments, to the next token or the end. */
static void skip_blank(struct lex *l)
{
	const char *t = l->t;

	for (;;) {
		char ch = t[l->i];

		if (ch == '\n' || ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f') {
			l->line += ch == '\n';
			l->i++;
		} else if (ch == '#' || (ch == '/' && t[l->i + 1] == '/')) {
			while (t[l->i] && t[l->i] != '\n')
				l->i++;
		} else if (ch == '/' && t[l->i + 1] == '*') {
			for (l->i += 2; t[l->i] && !(t[l->i] == '*' && t[l->i + 1] == '/'); l->i++)
				l->line += t[l->i] == '\n';
			l->i += t[l->i] ? 2 : 0;
		} else {
			return;
		}
	}
}

/* Does the digit string d[0..n) fit under max (as long as max, or shorter)? */
static bool fits(const char *d, size_t n, const char *max)
{
	size_t m = strlen(max);

	while (n > 1 && *d == '0')
		d++, n--;
	return n < m || (n == m && memcmp(d, max, n) <= 0);
}

/* Past the number at the cursor; false if libconfig would truncate it. */
static bool skip_number(struct lex *l)
{
	const char *t = l->t;
	size_t j = l->i, start;
	bool neg = t[j] == '-', hex;

	if (t[j] == '-' || t[j] == '+' || t[j] == '.')
		j++;
	hex = t[j] == '0' && (t[j + 1] == 'x' || t[j + 1] == 'X') && is_xdigit(t[j + 2]);
	j += hex ? 2 : 0;
	start = j;
	while (hex ? is_xdigit(t[j]) : is_digit(t[j]))
		j++;
	if (!hex && (t[l->i] == '.' || t[j] == '.' || t[j] == 'e' || t[j] == 'E')) {
		/* A float: read with atof, and no setting takes one anyway. */
		while (t[j] && (is_digit(t[j]) || strchr(".eE+-", t[j])))
			j++;
		l->i = j;
		return true;
	}
	l->i = j;
	if (t[j] == 'L') {
		l->i = j + 1 + (t[j + 1] == 'L');
		return true;
	}
	if (hex)	/* eight digits always fit, and every hex digit sorts below 'f' */
		return fits(t + start, j - start, "ffffffff");
	return fits(t + start, j - start, neg ? "2147483648" : "2147483647");
}

static bool at_number(const struct lex *l)
{
	char ch = l->t[l->i];

	return is_digit(ch) || ((ch == '-' || ch == '+' || ch == '.') && is_digit(l->t[l->i + 1]));
}

/* Past one token; false if it is one the guard refuses. Anything the scanner would not
 * make a multi-character token of is one character here. */
static bool skip_token(struct lex *l, const char **why)
{
	char ch = l->t[l->i];

	if (ch == '"') {
		skip_string(l);
	} else if (ch == '@') {
		*why = "@include is not supported: one file holds the whole configuration";
		return false;
	} else if (is_name_start(ch)) {
		while (is_name_char(l->t[l->i]))
			l->i++;
	} else if (at_number(l)) {
		if (!skip_number(l)) {
			*why = "integer too large for 32 bits (libconfig would truncate it; add an "
			       "L suffix for a 64-bit value)";
			return false;
		}
	} else {
		l->i++;
	}
	return true;
}

/* The shape of the text: libconfig checks each new setting of a group against all the
 * ones before it, so a group of n settings costs n^2 / 2 string compares (40000 settings
 * take seconds). No group here has more than eight, nor any setting more than four levels
 * of nesting: far past either is refused, so that any text parses in linear time. */
#define MAX_DEPTH          16
#define MAX_GROUP_SETTINGS 64

struct shape {
	unsigned depth;
	bool group[MAX_DEPTH + 1];     /* frame 0 is the file's top level, a group */
	unsigned settings[MAX_DEPTH + 1];
};

static const char *check_shape(struct shape *s, const struct lex *l)
{
	char ch = l->t[l->i];

	if (ch == '{' || ch == '(' || ch == '[') {
		if (s->depth == MAX_DEPTH)
			return "nested too deeply";
		s->depth++;
		s->group[s->depth] = ch == '{';
		s->settings[s->depth] = 0;
	} else if (ch == '}' || ch == ')' || ch == ']') {
		s->depth -= s->depth > 0;
	} else if (is_name_start(ch) && s->group[s->depth] &&
		   ++s->settings[s->depth] > MAX_GROUP_SETTINGS) {
		return "too many settings in one group";
	}
	return NULL;
}

const char *wg_config_guard(const char *text, unsigned *line)
{
	struct lex l = { .t = text, .line = 1 };
	struct shape shape = { .group[0] = true };
	const char *why = NULL;

	for (skip_blank(&l); l.t[l.i]; skip_blank(&l)) {
		why = check_shape(&shape, &l);
		if (why || !skip_token(&l, &why))
			break;
	}
	*line = l.line;
	return why;
}

/* Is the token at the cursor the name `name`? */
static bool at_name(const struct lex *l, const char *name)
{
	size_t n = strlen(name);

	return strncmp(l->t + l->i, name, n) == 0 && !is_name_char(l->t[l->i + n]) &&
	       (l->i == 0 || !is_name_char(l->t[l->i - 1]));
}

/* With the cursor just inside an array or list: the line of element `index`, counting
 * the commas at this depth. */
static unsigned find_element(struct lex *l, unsigned index)
{
	const char *why;
	unsigned depth = 1, commas = 0;

	for (skip_blank(l); l->t[l->i]; skip_blank(l)) {
		char ch = l->t[l->i];

		if (depth == 1 && commas == index && ch != ',' && ch != ']' && ch != ')')
			return l->line;
		if (ch == '[' || ch == '(' || ch == '{')
			depth++;
		else if (ch == ']' || ch == ')' || ch == '}')
			depth--;
		else if (ch == ',' && depth == 1)
			commas++;
		if (depth == 0 || !skip_token(l, &why))
			return 0;
	}
	return 0;
}

/* With the cursor on a name: past "name = [" (or ":" and "("), with the '=' on `line`,
 * which is the line libconfig records for a setting. */
static bool enter_value(struct lex *l, unsigned line)
{
	const char *why;

	skip_token(l, &why);
	skip_blank(l);
	if ((l->t[l->i] != '=' && l->t[l->i] != ':') || l->line != line)
		return false;
	l->i++;
	skip_blank(l);
	if (l->t[l->i] != '[' && l->t[l->i] != '(')
		return false;
	l->i++;
	return true;
}

unsigned wg_config_element_line(const char *text, unsigned line, const char *name,
				unsigned index)
{
	struct lex l = { .t = text, .line = 1 };
	const char *why;

	for (skip_blank(&l); l.t[l.i] && l.line <= line; skip_blank(&l)) {
		if (at_name(&l, name)) {
			if (enter_value(&l, line))
				return find_element(&l, index);
		} else if (!skip_token(&l, &why)) {
			return 0;
		}
	}
	return 0;
}
