/* SPDX-License-Identifier: MIT */
/*
 * Internal to the config module: a lexical pass over the text, following the states of
 * libconfig's scanner, for two things libconfig 1.5 (Debian's) does not do for us.
 */
#ifndef WG_CONFIG_SCAN_H
#define WG_CONFIG_SCAN_H

/* Before libconfig reads the text: NULL if it is safe to hand over, otherwise the reason,
 * with *line set to where (1-based). Refused: integer literals libconfig 1.5 would
 * silently truncate to 32 bits, '@' (an @include directive), and shapes that would cost
 * libconfig more than linear time (a group of many settings, deep nesting). */
const char *wg_config_guard(const char *text, unsigned *line);

/* The line of element `index` of the array or list held by the setting `name` whose
 * definition starts on line `line`; 0 if not found. libconfig records a scalar element's
 * line only after reading the token that follows it, which for the last element of a
 * multi-line array is the closing bracket on a later line. */
unsigned wg_config_element_line(const char *text, unsigned line, const char *name,
				unsigned index);

#endif
