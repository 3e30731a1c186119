/*
 * c_src/stringprep.c again, with libidn's rule of canonical composition
 * (STZPREP_LIBIDN_COMPOSITION) and its functions renamed, so that
 * test/c/stringprep_diff.c can hold both versions: a case where stanza
 * and libidn differ must be one where this copy agrees with libidn.
 */
#define STZPREP_LIBIDN_COMPOSITION
#define stzprep libidn_rule_stzprep
#define stzprep_ascii libidn_rule_stzprep_ascii
#define stzprep_utf8_next libidn_rule_stzprep_utf8_next
#define stzprep_nfkc libidn_rule_stzprep_nfkc
#define stzprep_work_init libidn_rule_stzprep_work_init
#define stzprep_result_name libidn_rule_stzprep_result_name
#include "../../c_src/stringprep.c"
