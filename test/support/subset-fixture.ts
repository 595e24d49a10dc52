import type pg from 'pg';

/**
 * A small database with every shape subsetting must handle, with rows simple enough to state the
 * expected subset by hand:
 * - account (20): a tree through manager_id (account n reports to n / 2; 1 is the root)
 * - project (30): account_id → account NOT NULL, lead_id → account nullable (NULL when id % 3 = 0),
 *   code UNIQUE; project p belongs to account 1 + p % 20 and is led by 1 + (7p) % 20
 * - task (60): (project_code, n) primary key, project_code → project.code (a unique non-primary key)
 * - task_note (31, no primary key): (project_code, n) → task, one per project, plus one with NULLs
 * - department (3) ⇄ employee (6): a two-table cycle; employee e works in department 1 + e % 3,
 *   department d is headed by employee d
 * - big (10,000, analysed): for sampling
 */
export async function loadSubsetFixture(client: pg.Client): Promise<void> {
  await client.query(`
    CREATE TABLE public.account (
      id int PRIMARY KEY,
      label text NOT NULL,
      created_at timestamptz NOT NULL,
      manager_id int REFERENCES public.account (id)
    );
    INSERT INTO public.account
    SELECT g, 'account ' || g, timestamptz '2026-01-01' + g * interval '1 day', CASE WHEN g > 1 THEN g / 2 END
    FROM generate_series(1, 20) g;

    CREATE TABLE public.project (
      id int PRIMARY KEY,
      code text NOT NULL UNIQUE,
      account_id int NOT NULL REFERENCES public.account (id),
      lead_id int REFERENCES public.account (id)
    );
    INSERT INTO public.project
    SELECT g, 'P' || g, 1 + g % 20, CASE WHEN g % 3 <> 0 THEN 1 + (g * 7) % 20 END FROM generate_series(1, 30) g;

    CREATE TABLE public.task (
      project_code text NOT NULL REFERENCES public.project (code),
      n int NOT NULL,
      title text,
      PRIMARY KEY (project_code, n)
    );
    INSERT INTO public.task SELECT 'P' || p, n, 'task ' || p || '.' || n FROM generate_series(1, 30) p, generate_series(1, 2) n;

    CREATE TABLE public.task_note (
      project_code text,
      n int,
      body text,
      FOREIGN KEY (project_code, n) REFERENCES public.task (project_code, n)
    );
    INSERT INTO public.task_note SELECT 'P' || p, 1, 'note ' || p FROM generate_series(1, 30) p;
    INSERT INTO public.task_note VALUES (NULL, NULL, 'loose note');

    CREATE TABLE public.department (id int PRIMARY KEY, title text NOT NULL, head_id int);
    CREATE TABLE public.employee (id int PRIMARY KEY, department_id int NOT NULL REFERENCES public.department (id));
    INSERT INTO public.department SELECT d, 'department ' || d, d FROM generate_series(1, 3) d;
    INSERT INTO public.employee SELECT e, 1 + e % 3 FROM generate_series(1, 6) e;
    ALTER TABLE public.department ADD FOREIGN KEY (head_id) REFERENCES public.employee (id);

    CREATE TABLE public.big (id int PRIMARY KEY, v int NOT NULL);
    INSERT INTO public.big SELECT g, g % 7 FROM generate_series(1, 10000) g;
    ANALYZE public.big;
  `);
}
